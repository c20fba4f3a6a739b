//! Conversation reply: a customer's message gets exactly one reply from the LLM port.

use std::time::Duration;

use serde_json::json;

use crate::support::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_message_gets_one_reply() {
    let world = World::start("sagareply").await;
    let agent = world.deployed_agent().await;
    world.run_sagas(world.saga_settings()).await;
    let (_, conversation) = world
        .platform
        .post(
            "acme",
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "telegram", "customer_ref": "@ann" }),
        )
        .await;
    let id = conversation["id"].as_str().unwrap().to_owned();
    let (status, _) = world
        .platform
        .post(
            "acme",
            &format!("/v1/conversations/{id}/messages"),
            json!({ "text": "Are you open on Sunday?" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        world
            .saga_outcome(&format!("{id}:1"), Duration::from_secs(60))
            .await
            .0,
        "completed"
    );
    assert_eq!(
        world.events_of(&id).await,
        ["ConversationStarted", "MessageReceived", "MessageSent"]
    );
    let log = world.step_log(&format!("{id}:1")).await;
    assert!(
        log.contains(&("SendReply".to_owned(), "ok".to_owned())),
        "{log:?}"
    );
    // The tokens the LLM reported are a fact of the reply, for billing.
    let sent: serde_json::Value = sqlx::query_scalar(
        "SELECT payload::jsonb -> 'MessageSent' FROM events WHERE aggregate_id = $1 AND sequence = 3",
    )
    .bind(&id)
    .fetch_one(&world.platform.pool)
    .await
    .unwrap();
    let saga: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM saga_instances WHERE correlation_id = $1")
            .bind(format!("{id}:1"))
            .fetch_one(&world.platform.pool)
            .await
            .unwrap();
    assert!(sent["prompt_tokens"].as_u64().unwrap() > 0, "{sent}");
    assert!(sent["completion_tokens"].as_u64().unwrap() > 0, "{sent}");
    assert_eq!(sent["prompt_tokens"], saga["prompt_tokens"]);
    assert_eq!(sent["completion_tokens"], saga["completion_tokens"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_the_llm_cannot_give_parks_visibly_and_sends_nothing() {
    let world = World::start("sagareplyfail").await;
    let agent = world.deployed_agent().await;
    let mut settings = world.saga_settings();
    settings.local_llm_always_fail = true;
    world.run_sagas(settings).await;
    let (_, conversation) = world
        .platform
        .post(
            "acme",
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "web", "customer_ref": "c-9" }),
        )
        .await;
    let id = conversation["id"].as_str().unwrap().to_owned();
    world
        .platform
        .post(
            "acme",
            &format!("/v1/conversations/{id}/messages"),
            json!({ "text": "Hello?" }),
        )
        .await;
    assert_eq!(
        world
            .saga_outcome(&format!("{id}:1"), Duration::from_secs(60))
            .await
            .0,
        "parked"
    );
    assert_eq!(
        world.events_of(&id).await,
        ["ConversationStarted", "MessageReceived"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_reply_goes_to_a_conversation_closed_meanwhile() {
    let world = World::start("sagareplyclosed").await;
    let agent = world.deployed_agent().await;
    let mut settings = world.saga_settings();
    settings.local_llm_latency_ms = 1_500;
    world.run_sagas(settings).await;
    let (_, conversation) = world
        .platform
        .post(
            "acme",
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "web", "customer_ref": "c-10" }),
        )
        .await;
    let id = conversation["id"].as_str().unwrap().to_owned();
    world
        .platform
        .post(
            "acme",
            &format!("/v1/conversations/{id}/messages"),
            json!({ "text": "Bye" }),
        )
        .await;
    world
        .platform
        .post("acme", &format!("/v1/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!(
        world
            .saga_outcome(&format!("{id}:1"), Duration::from_secs(60))
            .await
            .0,
        "cancelled"
    );
    assert_eq!(
        world.events_of(&id).await,
        [
            "ConversationStarted",
            "MessageReceived",
            "ConversationClosed"
        ]
    );
}
