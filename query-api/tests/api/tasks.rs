//! /v1/tasks: filters, time window, both orders, history, isolation.

use projectors::ProjectionName;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::{at, task, task_history};
use crate::helpers::{assert_each_once, ids, TestApp};

struct Seeded {
    agent: Uuid,
    acme: Vec<Uuid>,
    globex: Uuid,
}

/// Acme: five tasks of one agent (two at the same instant) and one unassigned.
async fn seed(app: &TestApp) -> Seeded {
    let generation = app.build(ProjectionName::Tasks).await;
    let mut tx = app.write(generation).await;
    let agent = Uuid::now_v7();
    let mut acme = Vec::new();
    for (status, minutes) in [
        ("created", 10),
        ("completed", 20),
        ("in_progress", 20),
        ("completed", 30),
        ("failed", 40),
    ] {
        acme.push(task(&mut tx, "acme", Some(agent), status, at(minutes)).await);
    }
    acme.push(task(&mut tx, "acme", None, "created", at(50)).await);
    let globex = task(&mut tx, "globex", Some(agent), "completed", at(25)).await;
    tx.commit().await.unwrap();
    Seeded {
        agent,
        acme,
        globex,
    }
}

#[tokio::test]
async fn pages_walk_every_task_once_in_both_orders() {
    let app = TestApp::start().await;
    let seeded = seed(&app).await;
    let expected: Vec<String> = seeded.acme.iter().map(Uuid::to_string).collect();

    let ascending = app.walk("/v1/tasks", "acme", 2).await;
    assert_each_once(&ascending, &expected);
    let descending = app.walk("/v1/tasks?sort=-created_at", "acme", 4).await;
    assert_each_once(&descending, &expected);
    let mut reversed = ids(&ascending);
    reversed.reverse();
    assert_eq!(ids(&descending), reversed);
    assert_eq!(ids(&ascending)[0], seeded.acme[0].to_string());
    app.stop().await;
}

#[tokio::test]
async fn filters_by_agent_status_and_creation_time() {
    let app = TestApp::start().await;
    let seeded = seed(&app).await;

    let of_agent = app
        .get(&format!("/v1/tasks?agent_id={}", seeded.agent), "acme")
        .await;
    assert_eq!(of_agent.items().len(), 5);
    assert!(!of_agent.ids().contains(&seeded.globex.to_string()));
    let other_agent = app
        .get(&format!("/v1/tasks?agent_id={}", Uuid::now_v7()), "acme")
        .await;
    assert!(other_agent.items().is_empty());
    let completed = app.get("/v1/tasks?status=completed", "acme").await;
    assert_eq!(
        completed.ids(),
        [seeded.acme[1].to_string(), seeded.acme[3].to_string()]
    );
    // created_after is inclusive, created_before exclusive.
    let window = app
        .get(
            "/v1/tasks?created_after=2025-03-01T09:20:00Z&created_before=2025-03-01T09:40:00Z",
            "acme",
        )
        .await;
    assert_eq!(window.items().len(), 3);
    let offset = app
        .get(
            "/v1/tasks?created_after=2025-03-01T10:40:00%2B01:00",
            "acme",
        )
        .await;
    assert_eq!(offset.items().len(), 2, "09:40Z onwards: 40 and 50 minutes");
    app.stop().await;
}

#[tokio::test]
async fn one_task_has_its_history_in_sequence_order() {
    let app = TestApp::start().await;
    let seeded = seed(&app).await;
    let generation = app.build(ProjectionName::Tasks).await;
    let mut tx = app.write(generation).await;
    let id = seeded.acme[1];
    for (sequence, event) in [
        (3, "TaskCompleted"),
        (1, "TaskCreated"),
        (2, "TaskAssigned"),
    ] {
        task_history(&mut tx, id, sequence, event).await;
    }
    tx.commit().await.unwrap();

    let detail = app.get(&format!("/v1/tasks/{id}"), "acme").await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["status"], "completed");
    let events: Vec<&str> = detail.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["TaskCreated", "TaskAssigned", "TaskCompleted"]);
    let theirs = app
        .get(&format!("/v1/tasks/{}", seeded.globex), "acme")
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn invalid_filters_name_their_field() {
    let app = TestApp::start().await;
    seed(&app).await;

    app.get("/v1/tasks?agent_id=42", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "agent_id");
    app.get("/v1/tasks?status=done", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "status");
    app.get("/v1/tasks?created_after=yesterday", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "created_after");
    app.get(
        "/v1/tasks?created_after=2025-03-02T00:00:00Z&created_before=2025-03-01T00:00:00Z",
        "acme",
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "created_before");
    app.get("/v1/tasks?sort=name", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "sort");
    app.stop().await;
}
