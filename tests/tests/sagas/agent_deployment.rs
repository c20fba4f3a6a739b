//! Agent deployment: quota slot → provisioning → deployed; failures undo the completed steps
//! in reverse and record why on the agent.

use std::time::Duration;

use domain::subscription::SubscriptionId;
use domain::TenantId;
use serde_json::json;

use crate::support::World;

async fn subscribe(world: &World, quota: u32) -> String {
    let (status, body) = world
        .platform
        .post(
            "acme",
            "/v1/subscriptions",
            json!({ "plan": "pro", "agent_quota": quota }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    SubscriptionId::for_tenant(&TenantId::parse("acme").unwrap()).to_string()
}

async fn draft_agent(world: &World) -> String {
    let (_, agent) = world
        .platform
        .post("acme", "/v1/agents", json!({ "name": "Ada", "industry": "hospitality", "provider": "google", "model": "gemini-2.5-pro" }))
        .await;
    agent["id"].as_str().unwrap().to_owned()
}

async fn request_deployment(world: &World, agent: &str) -> String {
    let (status, body) = world
        .platform
        .post(
            "acme",
            &format!("/v1/agents/{agent}/deployment-requests"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    format!("{agent}:1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_requested_deployment_reserves_a_slot_provisions_and_deploys() {
    let world = World::start("deployok").await;
    let subscription = subscribe(&world, 1).await;
    world.run_sagas(world.saga_settings()).await;
    let agent = draft_agent(&world).await;
    let saga = request_deployment(&world, &agent).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "completed"
    );
    assert_eq!(
        world.events_of(&agent).await,
        ["AgentCreated", "AgentDeploymentRequested", "AgentDeployed"]
    );
    assert_eq!(
        world.events_of(&subscription).await,
        ["SubscriptionActivated", "AgentSlotReserved"]
    );
    let deployed: serde_json::Value =
        sqlx::query_scalar("SELECT payload::jsonb FROM events WHERE aggregate_id = $1 AND event_type = 'AgentDeployed'")
            .bind(&agent)
            .fetch_one(&world.platform.pool)
            .await
            .unwrap();
    assert!(deployed["AgentDeployed"]["widget_embed_code"]
        .as_str()
        .unwrap()
        .contains(&agent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_quota_the_deployment_fails_and_says_why() {
    let world = World::start("deployquota").await;
    let subscription = subscribe(&world, 1).await;
    world.run_sagas(world.saga_settings()).await;
    let first = draft_agent(&world).await;
    let saga = request_deployment(&world, &first).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "completed"
    );
    let second = draft_agent(&world).await;
    let saga = request_deployment(&world, &second).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&second).await,
        [
            "AgentCreated",
            "AgentDeploymentRequested",
            "AgentDeploymentFailed"
        ]
    );
    assert_eq!(
        world.events_of(&subscription).await,
        ["SubscriptionActivated", "AgentSlotReserved"]
    );
    let reason: String = sqlx::query_scalar(
        "SELECT payload::jsonb -> 'AgentDeploymentFailed' ->> 'reason' FROM events WHERE aggregate_id = $1 AND sequence = 3",
    )
    .bind(&second)
    .fetch_one(&world.platform.pool)
    .await
    .unwrap();
    assert!(reason.contains("quota"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_provisioner_releases_the_slot_again() {
    let world = World::start("deployprov").await;
    let subscription = subscribe(&world, 2).await;
    let mut settings = world.saga_settings();
    settings.local_provisioning_always_fail = true;
    world.run_sagas(settings).await;
    let agent = draft_agent(&world).await;
    let saga = request_deployment(&world, &agent).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&agent).await,
        [
            "AgentCreated",
            "AgentDeploymentRequested",
            "AgentDeploymentFailed"
        ]
    );
    assert_eq!(
        world.events_of(&subscription).await,
        [
            "SubscriptionActivated",
            "AgentSlotReserved",
            "AgentSlotReleased"
        ]
    );
    let log: Vec<String> = world
        .step_log(&saga)
        .await
        .into_iter()
        .filter(|(_, o)| o != "transient")
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        log,
        [
            "ReserveAgentSlot",
            "ReleaseAgentSlot",
            "FailAgentDeployment"
        ],
        "compensations run in reverse"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_subscription_the_deployment_fails() {
    let world = World::start("deploynosub").await;
    world.run_sagas(world.saga_settings()).await;
    let agent = draft_agent(&world).await;
    let saga = request_deployment(&world, &agent).await;
    assert_eq!(
        world.saga_outcome(&saga, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&agent).await,
        [
            "AgentCreated",
            "AgentDeploymentRequested",
            "AgentDeploymentFailed"
        ]
    );
}
