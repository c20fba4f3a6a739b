//! /v1/invoices and /v1/billing/totals.

use projectors::ProjectionName;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{at, invoice};
use crate::helpers::{assert_each_once, TestApp};

#[tokio::test]
async fn invoices_filter_page_total_and_stay_within_the_tenant() {
    let app = TestApp::start().await;
    let generation = app.build(ProjectionName::Billing).await;
    let mut tx = app.write(generation).await;
    let mut acme = Vec::new();
    for (status, currency, total, minutes) in [
        ("issued", "EUR", 1_000, 1),
        ("paid", "EUR", 2_500, 2),
        ("issued", "EUR", 300, 3),
        ("voided", "EUR", 9_999, 4),
        ("paid", "USD", 700, 5),
        ("issued", "JPY", 500, 5),
    ] {
        acme.push(invoice(&mut tx, "acme", status, currency, total, at(minutes)).await);
    }
    let globex = invoice(&mut tx, "globex", "issued", "EUR", 1_000_000, at(0)).await;
    tx.commit().await.unwrap();

    let expected: Vec<String> = acme.iter().map(Uuid::to_string).collect();
    assert_each_once(&app.walk("/v1/invoices", "acme", 4).await, &expected);
    let issued = app.get("/v1/invoices?status=issued", "acme").await;
    assert_eq!(issued.items().len(), 3);
    let eur = app
        .get("/v1/invoices?currency=EUR&status=paid", "acme")
        .await;
    assert_eq!(eur.ids(), [acme[1].to_string()]);
    let one = app.get(&format!("/v1/invoices/{}", acme[0]), "acme").await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["total_minor"], 1_000);
    assert_eq!(one.body["period_start"], "2025-02-01");
    assert!(one.body["line_items"].is_array());
    let theirs = app.get(&format!("/v1/invoices/{globex}"), "acme").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let totals = app.get("/v1/billing/totals", "acme").await;
    assert_eq!(totals.status, StatusCode::OK);
    assert_eq!(
        totals.body,
        json!({ "totals": [
            { "currency": "EUR", "outstanding_minor": 1_300, "paid_minor": 2_500 },
            { "currency": "JPY", "outstanding_minor": 500, "paid_minor": 0 },
            { "currency": "USD", "outstanding_minor": 0, "paid_minor": 700 },
        ]})
    );
    let none = app.get("/v1/billing/totals", "initech").await;
    assert_eq!(none.body, json!({ "totals": [] }));

    app.get("/v1/invoices?currency=eur", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "currency");
    app.get("/v1/invoices?status=draft", "acme")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "status");
    app.stop().await;
}
