//! The operator API: parked sagas are visible with their step log; admins retry or cancel them.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::World;

async fn parked_saga(world: &World, tenant: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO saga_instances (saga_id, saga_type, correlation_id, tenant_id, status, step, attempts, data, last_error,
                                     next_attempt_at)
         VALUES ($1, 'task_execution', $2, $3, 'parked', 'fail', 5, $4, 'command API unreachable', now() + interval '1 hour')",
    )
    .bind(id)
    .bind(Uuid::now_v7().to_string())
    .bind(tenant)
    .bind(json!({ "task_id": Uuid::now_v7(), "reason": "LLM down" }))
    .execute(&world.platform.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO saga_steps (saga_id, seq, step, action, outcome, detail) VALUES ($1, 1, 'fail', 'FailTask', 'transient', 'connection refused')")
        .bind(id)
        .execute(&world.platform.pool)
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parked_sagas_are_listed_shown_retried_and_cancelled_by_admins() {
    let world = World::start("sagaapi").await;
    let mut settings = world.saga_settings();
    settings.workers = 0; // nothing picks the retried saga up during the test
    let service = sagas::service::Service::build(&settings).await.unwrap();
    let base = format!("http://{}", service.address());
    tokio::spawn(service.run(world.stop.clone()));
    let first = parked_saga(&world, "acme").await;
    let second = parked_saga(&world, "acme").await;
    parked_saga(&world, "globex").await;
    let (admin, viewer) = (
        world.platform.token("acme", &["admin"]),
        world.platform.token("acme", &["viewer"]),
    );
    let client = &world.platform.client;

    let listed: Value = client
        .get(format!("{base}/v1/sagas?status=parked"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "only the caller tenant's parked sagas"
    );
    let shown: Value = client
        .get(format!("{base}/v1/sagas/{first}"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["saga"]["last_error"], "command API unreachable");
    assert_eq!(shown["steps"][0]["action"], "FailTask");

    let forbidden = client
        .post(format!("{base}/v1/sagas/{first}/retry"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let other_tenant = world.platform.token("globex", &["admin"]);
    let hidden = client
        .post(format!("{base}/v1/sagas/{first}/retry"))
        .bearer_auth(&other_tenant)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let retried = client
        .post(format!("{base}/v1/sagas/{first}/retry"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    let cancelled = client
        .post(format!("{base}/v1/sagas/{second}/cancel"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
    let again = client
        .post(format!("{base}/v1/sagas/{second}/retry"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "a cancelled saga is not retried"
    );

    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT saga_id, status FROM saga_instances WHERE saga_id = ANY($1) ORDER BY saga_id",
    )
    .bind(vec![first, second])
    .fetch_all(&world.platform.pool)
    .await
    .unwrap();
    assert_eq!(
        statuses,
        vec![
            (first, "compensating".to_owned()),
            (second, "cancelled".to_owned())
        ]
    );
    let bad = client
        .get(format!("{base}/v1/sagas?status=lost"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
