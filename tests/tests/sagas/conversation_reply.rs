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
}
