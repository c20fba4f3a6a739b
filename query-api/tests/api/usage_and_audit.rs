//! /v1/usage (per agent and day) and /v1/audit (every event).

use projectors::ProjectionName;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::{at, audit_event, day, usage_day, NewEvent};
use crate::helpers::TestApp;

#[tokio::test]
async fn usage_filters_by_agent_and_day_range() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Usage).await;
    let mut tx = app.write(generation).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    for (agent, d) in [(a, 1), (b, 1), (a, 2), (a, 3), (b, 3), (b, 4)] {
        usage_day(&mut tx, "acme", agent, day(d), i64::from(d) * 10).await;
    }
    usage_day(&mut tx, "globex", a, day(2), 999).await;
    tx.commit().await.unwrap();

    let walked = app.walk("/v1/usage", "acme", 4).await;
    let keys: Vec<(String, String)> = walked
        .iter()
        .map(|u| {
            (
                u["day"].as_str().unwrap().to_owned(),
                u["agent_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 6);
    assert!(walked.iter().all(|u| u["messages_received"] != 999));

    let of_a = app.get(&format!("/v1/usage?agent_id={a}"), "acme").await;
    assert_eq!(of_a.items().len(), 3);
    let range = app
        .get("/v1/usage?from=2025-03-02&to=2025-03-03", "acme")
        .await;
    assert_eq!(range.items().len(), 3, "both bounds are inclusive");
    assert_eq!(range.items()[0]["messages_received"], 20);

    app.get("/v1/usage?from=March", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "from");
    app.get("/v1/usage?from=2025-03-03&to=2025-03-02", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "to");
    app.get("/v1/usage?agent_id=a", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "agent_id");
    app.stop().await;
}

#[tokio::test]
async fn audit_lists_events_by_time_and_filters_them() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Audit).await;
    let mut tx = app.write(generation).await;
    let (task, agent) = (Uuid::now_v7(), Uuid::now_v7());
    let rows = [
        ("task", task, 2, "TaskAssigned", 5),
        ("agent", agent, 1, "AgentCreated", 0),
        ("task", task, 1, "TaskCreated", 5),
        ("agent", agent, 2, "AgentDeployed", 7),
        ("task", task, 3, "TaskCompleted", 9),
    ];
    for (aggregate_type, aggregate_id, sequence, event_type, minutes) in rows {
        let event = NewEvent {
            tenant: "acme",
            aggregate_type,
            aggregate_id,
            sequence,
            event_type,
            occurred_at: at(minutes),
        };
        audit_event(&mut tx, event).await;
    }
    let foreign = NewEvent {
        tenant: "globex",
        aggregate_type: "task",
        aggregate_id: Uuid::now_v7(),
        sequence: 1,
        event_type: "TaskCreated",
        occurred_at: at(1),
    };
    audit_event(&mut tx, foreign).await;
    tx.commit().await.unwrap();

    let walked = app.walk("/v1/audit", "acme", 2).await;
    assert_eq!(walked.len(), 5);
    let times: Vec<&str> = walked
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // Same instant: the event id decides, the same way on every walk.
    let again = app.walk("/v1/audit", "acme", 3).await;
    assert_eq!(again, walked);

    let of_task = app
        .get(&format!("/v1/audit?aggregate_id={task}"), "acme")
        .await;
    assert_eq!(of_task.items().len(), 3);
    let agents = app.get("/v1/audit?aggregate_type=agent", "acme").await;
    assert_eq!(agents.items().len(), 2);
    let completed = app.get("/v1/audit?event_type=TaskCompleted", "acme").await;
    assert_eq!(completed.items()[0]["sequence"], 3);
    let window = app
        .get(
            "/v1/audit?from=2025-03-01T09:05:00Z&to=2025-03-01T09:09:00Z",
            "acme",
        )
        .await;
    assert_eq!(window.items().len(), 3, "from inclusive, to exclusive");

    app.get("/v1/audit?aggregate_type=order", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "aggregate_type");
    app.get("/v1/audit?event_type=Task%20Created", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "event_type");
    app.get("/v1/audit?to=noon", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "to");
    app.stop().await;
}
