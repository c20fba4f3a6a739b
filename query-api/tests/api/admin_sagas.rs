//! Sagas through the real sagas operator API: by status, one with its step log, retry and
//! cancel with their refusals passed on, and an unreachable sagas service.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Console;
use crate::helpers::TestApp;

async fn saga(pool: &PgPool, tenant: &str, status: &str, steps: i32) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO saga_instances (saga_id, saga_type, correlation_id, tenant_id, status, step, data)
         VALUES ($1, 'agent_deployment', $2, $3, $4, 'release_slot', $5)",
    )
    .bind(id)
    .bind(Uuid::now_v7().to_string())
    .bind(tenant)
    .bind(status)
    .bind(json!({ "agent_id": "a" }))
    .execute(pool)
    .await
    .unwrap();
    for seq in 1..=steps {
        sqlx::query(
            "INSERT INTO saga_steps (saga_id, seq, step, action, outcome)
             VALUES ($1, $2, 'release_slot', 'ReleaseAgentSlot', 'transient')",
        )
        .bind(id)
        .bind(seq)
        .execute(pool)
        .await
        .unwrap();
    }
    id
}

#[tokio::test]
async fn sagas_by_status_and_one_with_its_step_log_come_from_the_sagas_service() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    let parked = saga(pool, "acme", "parked", 3).await;
    let running = saga(pool, "acme", "running", 0).await;
    let foreign = saga(pool, "globex", "parked", 1).await;

    let list = console.get("/v1/admin/sagas?status=parked").await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(list.body["tenant"], "acme");
    let ids: Vec<&str> = list
        .items()
        .iter()
        .map(|s| s["saga_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![parked.to_string()],
        "the token's tenant's parked sagas only"
    );
    let all = console.get("/v1/admin/sagas?limit=10").await;
    assert_eq!(all.items().len(), 2);

    let shown = console.get(&format!("/v1/admin/sagas/{parked}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["saga"]["status"], "parked");
    assert_eq!(shown.body["steps"].as_array().unwrap().len(), 3);
    assert_eq!(shown.body["steps"][0]["action"], "ReleaseAgentSlot");

    // Another tenant's saga, an unknown one and a malformed id are all simply not found.
    for id in [
        foreign.to_string(),
        Uuid::now_v7().to_string(),
        "nope".to_owned(),
    ] {
        let answer = console.get(&format!("/v1/admin/sagas/{id}")).await;
        answer.assert_problem_status(StatusCode::NOT_FOUND);
    }
    let bad = console.get("/v1/admin/sagas?status=stuck&limit=0").await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "status");
    bad.assert_problem(StatusCode::BAD_REQUEST, "limit");
    let _ = running;
    console.stop().await;
}

#[tokio::test]
async fn retry_and_cancel_act_through_the_sagas_service_and_pass_its_refusals_on() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    let parked = saga(pool, "acme", "parked", 1).await;
    let running = saga(pool, "acme", "running", 0).await;

    let retried = console
        .post(&format!("/v1/admin/sagas/{parked}/retry"))
        .await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{:?}", retried.body);
    assert_eq!(
        retried.body,
        json!({ "saga_id": parked.to_string(), "action": "retry", "accepted": true })
    );
    let status: String = sqlx::query_scalar("SELECT status FROM saga_instances WHERE saga_id = $1")
        .bind(parked)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(status, "compensating");
    let shown = console.get(&format!("/v1/admin/sagas/{parked}")).await;
    let last = shown.body["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["action"].as_str(), last["outcome"].as_str()),
        (Some("retry"), Some("operator"))
    );
    assert_eq!(
        last["detail"], "tester",
        "the operator is the token's subject"
    );

    // Only a parked saga can be retried: the sagas service's 409 comes through unchanged.
    let refused = console
        .post(&format!("/v1/admin/sagas/{running}/retry"))
        .await;
    refused.assert_problem_status(StatusCode::CONFLICT);
    assert_eq!(refused.body["detail"], "the saga is running");

    let cancelled = console
        .post(&format!("/v1/admin/sagas/{running}/cancel"))
        .await;
    assert_eq!(cancelled.status, StatusCode::ACCEPTED);
    let again = console
        .post(&format!("/v1/admin/sagas/{running}/cancel"))
        .await;
    again.assert_problem_status(StatusCode::CONFLICT);
    let unknown = console
        .post(&format!("/v1/admin/sagas/{}/cancel", Uuid::now_v7()))
        .await;
    unknown.assert_problem_status(StatusCode::NOT_FOUND);
    console.stop().await;
}

#[tokio::test]
async fn an_unreachable_sagas_service_is_a_502_that_names_it() {
    let app =
        TestApp::start_with(|settings| settings.sagas_url = "http://127.0.0.1:1".to_owned()).await;
    let token = app.token("acme", &["admin"]);
    for (method, path) in [
        (reqwest::Method::GET, "/v1/admin/sagas".to_owned()),
        (
            reqwest::Method::POST,
            format!("/v1/admin/sagas/{}/cancel", Uuid::now_v7()),
        ),
    ] {
        let answer = crate::helpers::send(
            reqwest::Client::new()
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(&token),
        )
        .await;
        answer.assert_problem_status(StatusCode::BAD_GATEWAY);
        assert_eq!(answer.body["type"], "/problems/sagas-unavailable");
        assert!(answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:1"));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_sagas_service_that_refuses_the_token_is_a_502_not_a_sign_out() {
    // A sagas service configured with another JWT secret than this API.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = TestApp::start_with(|settings| settings.sagas_url = url).await;
    ::sagas::migrate(&app.pool).await.unwrap();
    let other = platform::Authenticator::hs256(secrecy::SecretString::from(
        "a-different-secret-of-decent-length",
    ));
    let router = ::sagas::api::router(app.pool.clone(), std::sync::Arc::new(other));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let answer = crate::helpers::send(
        app.anonymous("/v1/admin/sagas")
            .bearer_auth(app.token("acme", &["admin"])),
    )
    .await;
    answer.assert_problem_status(StatusCode::BAD_GATEWAY);
    assert_eq!(answer.body["type"], "/problems/sagas-refused-token");
    server.abort();
    app.stop().await;
}
