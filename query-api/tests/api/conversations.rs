//! /v1/conversations and their messages.

use projectors::ProjectionName;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::{at, conversation, message};
use crate::helpers::{assert_each_once, TestApp};

#[tokio::test]
async fn conversations_filter_page_and_stay_within_the_tenant() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Conversations).await;
    let mut tx = app.write(generation).await;
    let (agent, other_agent) = (Uuid::now_v7(), Uuid::now_v7());
    let mut acme = Vec::new();
    for (who, channel, status, minutes) in [
        (agent, "web", "open", 1),
        (agent, "whatsapp", "closed", 2),
        (other_agent, "web", "closed", 2),
        (agent, "telegram", "open", 3),
        (other_agent, "sms", "open", 4),
    ] {
        acme.push(conversation(&mut tx, "acme", who, channel, status, at(minutes)).await);
    }
    let globex = conversation(&mut tx, "globex", agent, "web", "open", at(0)).await;
    tx.commit().await.unwrap();

    let expected: Vec<String> = acme.iter().map(Uuid::to_string).collect();
    assert_each_once(&app.walk("/v1/conversations", "acme", 2).await, &expected);
    let by_agent = app
        .get(&format!("/v1/conversations?agent_id={agent}"), "acme")
        .await;
    assert_eq!(by_agent.items().len(), 3);
    let web = app.get("/v1/conversations?channel=web", "acme").await;
    assert_eq!(web.ids(), [acme[0].to_string(), acme[2].to_string()]);
    let closed = app.get("/v1/conversations?status=closed", "acme").await;
    assert_eq!(closed.items().len(), 2);
    let one = app
        .get(&format!("/v1/conversations/{}", acme[3]), "acme")
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["channel"], "telegram");
    let theirs = app
        .get(&format!("/v1/conversations/{globex}"), "acme")
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    app.get("/v1/conversations?channel=pigeon", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "channel");
    app.get("/v1/conversations?status=archived", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "status");
    app.get("/v1/conversations?agent_id=x", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "agent_id");
    app.stop().await;
}

#[tokio::test]
async fn messages_come_in_order_a_page_at_a_time_and_only_for_the_owner() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Conversations).await;
    let mut tx = app.write(generation).await;
    let id = conversation(&mut tx, "acme", Uuid::now_v7(), "web", "open", at(0)).await;
    for number in [4, 1, 7, 2, 6, 3, 5] {
        message(&mut tx, id, number).await;
    }
    tx.commit().await.unwrap();

    let path = format!("/v1/conversations/{id}/messages");
    let walked = app.walk(&path, "acme", 3).await;
    let numbers: Vec<i64> = walked
        .iter()
        .map(|m| m["message_number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(walked[0]["direction"], "received");
    assert_eq!(walked[1]["text"], "message 2");

    let theirs = app.get(&path, "globex").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let missing = app
        .get(
            &format!("/v1/conversations/{}/messages", Uuid::now_v7()),
            "acme",
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.get(&format!("{path}?cursor=bm9wZQ"), "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "cursor");
    app.stop().await;
}
