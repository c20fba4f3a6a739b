//! /v1/agents: tenant isolation, pages in each ordering, filters, detail counts, bad input.

use projectors::ProjectionName;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::{agent, agent_task, at, NewAgent};
use crate::helpers::{assert_each_once, ids, TestApp};

/// Seven agents of acme (two created at the same instant, so the id must break the tie)
/// and one of globex; returns acme's ids and globex's id.
async fn seed(app: &TestApp) -> (Vec<Uuid>, Uuid) {
    let generation = app.build(ProjectionName::Agents).await;
    let mut tx = app.write(generation).await;
    let rows = [
        ("Gamma", "deployed", "retail", 3),
        ("alpha", "draft", "retail", 1),
        ("Beta", "deployed", "finance", 2),
        ("Delta", "paused", "retail", 2),
        ("Epsilon", "deployed", "legal", 5),
        ("Zeta", "retired", "general", 4),
        ("Eta", "deployed", "retail", 6),
    ];
    let mut acme = Vec::new();
    for (name, status, industry, minutes) in rows {
        let new = NewAgent {
            tenant: "acme",
            name,
            status,
            industry,
            created_at: at(minutes),
        };
        acme.push(agent(&mut tx, new).await);
    }
    let globex = NewAgent {
        tenant: "globex",
        name: "Spy",
        status: "deployed",
        industry: "retail",
        created_at: at(0),
    };
    let globex = agent(&mut tx, globex).await;
    tx.commit().await.unwrap();
    (acme, globex)
}

#[tokio::test]
async fn another_tenants_agent_is_not_found_and_never_listed() {
    let app = TestApp::start().await;
    let (acme, globex) = seed(&app).await;

    let theirs = app.get(&format!("/v1/agents/{globex}"), "acme").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        theirs.header("content-type"),
        Some("application/problem+json")
    );
    let mine = app.get(&format!("/v1/agents/{}", acme[0]), "acme").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["name"], "Gamma");
    let listed = app.walk("/v1/agents", "acme", 200).await;
    assert!(!ids(&listed).contains(&globex.to_string()));
    assert_eq!(listed.len(), 7);
    let not_a_uuid = app.get("/v1/agents/not-a-uuid", "acme").await;
    assert_eq!(not_a_uuid.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn pages_walk_every_agent_once_in_a_stable_order_for_each_sort() {
    let app = TestApp::start().await;
    let (acme, _) = seed(&app).await;
    let expected: Vec<String> = acme.iter().map(Uuid::to_string).collect();
    let generation = app.build(ProjectionName::Agents).await;

    for (sort, order_by) in [
        (
            "created_at",
            "SELECT agent_id::text FROM agents WHERE tenant_id = 'acme'
             ORDER BY created_at, agent_id",
        ),
        (
            "-created_at",
            "SELECT agent_id::text FROM agents WHERE tenant_id = 'acme'
             ORDER BY created_at DESC, agent_id DESC",
        ),
        (
            "name",
            "SELECT agent_id::text FROM agents WHERE tenant_id = 'acme' ORDER BY name, agent_id",
        ),
    ] {
        let walked = app
            .walk(&format!("/v1/agents?sort={sort}"), "acme", 3)
            .await;
        assert_each_once(&walked, &expected);
        // The order PostgreSQL gives the sort key with the id as tie breaker (its collation
        // decides for names).
        let mut tx = app.write(generation).await;
        let ordered: Vec<String> = sqlx::query_scalar(order_by)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        assert_eq!(ids(&walked), ordered, "{sort}");
        // Other page sizes give the same order.
        let again = app
            .walk(&format!("/v1/agents?sort={sort}"), "acme", 2)
            .await;
        assert_eq!(ids(&again), ordered, "{sort}");
    }
    app.stop().await;
}

#[tokio::test]
async fn filters_by_status_and_industry() {
    let app = TestApp::start().await;
    seed(&app).await;

    let deployed = app.get("/v1/agents?status=deployed", "acme").await;
    assert_eq!(deployed.items().len(), 4);
    assert!(deployed.items().iter().all(|a| a["status"] == "deployed"));
    let retail = app.get("/v1/agents?industry=retail", "acme").await;
    assert_eq!(retail.items().len(), 4);
    let both = app
        .get("/v1/agents?status=deployed&industry=retail", "acme")
        .await;
    let names: Vec<&str> = both
        .items()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Gamma", "Eta"]);
    assert_eq!(both.body["next_cursor"], serde_json::Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn one_agent_counts_its_open_and_completed_tasks() {
    let app = TestApp::start().await;
    let (acme, _) = seed(&app).await;
    let generation = app.build(ProjectionName::Agents).await;
    let mut tx = app.write(generation).await;
    for state in ["open", "open", "completed", "closed", "unassigned"] {
        agent_task(&mut tx, "acme", acme[0], state).await;
    }
    agent_task(&mut tx, "acme", acme[1], "open").await;
    tx.commit().await.unwrap();

    let detail = app.get(&format!("/v1/agents/{}", acme[0]), "acme").await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["id"], acme[0].to_string());
    assert_eq!(detail.body["open_tasks"], 2);
    assert_eq!(detail.body["completed_tasks"], 1);
    assert_eq!(detail.body["industry"], "retail");
    assert_eq!(detail.body["version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn invalid_limit_cursor_and_filters_are_problems_naming_the_field() {
    let app = TestApp::start().await;
    seed(&app).await;

    for limit in ["0", "201", "-3", "ten"] {
        app.get(&format!("/v1/agents?limit={limit}"), "acme")
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "limit");
    }
    app.get("/v1/agents?cursor=garbage!", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "cursor");
    // A cursor of one ordering is refused by another.
    let first = app.get("/v1/agents?sort=name&limit=2", "acme").await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    app.get(
        &format!("/v1/agents?sort=-created_at&cursor={cursor}"),
        "acme",
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "cursor");
    app.get(&format!("/v1/tasks?cursor={cursor}"), "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "cursor");
    app.get("/v1/agents?status=sleeping", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "status");
    app.get("/v1/agents?industry=mining", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "industry");
    let several = app.get("/v1/agents?sort=age&limit=0", "acme").await;
    several.assert_problem(StatusCode::BAD_REQUEST, "sort");
    several.assert_problem(StatusCode::BAD_REQUEST, "limit");
    assert!(several.body["errors"][0]["reason"].as_str().is_some());
    app.stop().await;
}
