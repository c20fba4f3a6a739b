//! Billing cycle: BillingPeriodClosed → IssueInvoice from the usage read model → charge through
//! the payment port → RecordPayment. A payment that fails after retries (or is declined) marks
//! the invoice overdue and pauses the tenant's deployed agents (a compensating business
//! action); a later payment of that invoice resumes them (`billing_recovery`).

use serde_json::{json, Value};
use uuid::Uuid;

use super::{compensating_command, Action, Deadline, Transition};
use crate::commands::Sent;
use crate::instances::SagaInstance;
use crate::ports::payments::PaymentError;
use crate::Context;

pub const TYPE: &str = "billing_cycle";
pub const RECOVERY: &str = "billing_recovery";

fn act(
    name: &str,
    key: Option<String>,
    outcome: &'static str,
    detail: Option<String>,
) -> Vec<Action> {
    vec![Action {
        action: name.to_owned(),
        idempotency_key: key,
        outcome,
        detail,
    }]
}

fn key(saga: &SagaInstance, step: &str) -> String {
    format!("saga:{}:{step}", saga.saga_id)
}

/// Prices of the usage, in minor units of `currency`.
#[derive(Debug, Clone)]
pub struct Prices {
    pub currency: String,
    pub base_fee_minor: i64,
    pub per_message_minor: i64,
    pub per_completed_task_minor: i64,
    pub per_thousand_tokens_minor: i64,
}

pub(super) async fn run_step(context: &Context, saga: &SagaInstance) -> (Vec<Action>, Transition) {
    let mut data = saga.data.clone();
    let tenant = saga.tenant_id.as_str();
    let invoice = data["invoice_id"].as_str().unwrap_or_default().to_owned();
    match saga.step.as_str() {
        "issue" => {
            let body = match invoice_body(context, saga).await {
                Ok(body) => body,
                Err(error) => {
                    return (
                        Vec::new(),
                        Transition::Retry {
                            error: error.to_string(),
                        },
                    )
                }
            };
            let key = key(saga, "issue");
            match context
                .commands
                .post(tenant, "/v1/invoices", &body, &key)
                .await
            {
                Sent::Accepted(answer) => {
                    data["invoice_id"] = answer["id"].clone();
                    data["amount_minor"] = json!(total(&body));
                    data["currency"] = body["currency"].clone();
                    (
                        act("IssueInvoice", Some(key), "ok", None),
                        Transition::Goto {
                            step: "charge",
                            data,
                            deadline: Deadline::Keep,
                        },
                    )
                }
                Sent::Rejected { status, problem } => (
                    act(
                        "IssueInvoice",
                        Some(key),
                        "rejected",
                        Some(format!("{status}: {problem}")),
                    ),
                    Transition::Finish {
                        status: "parked",
                        data,
                    },
                ),
                Sent::Transient(error) => (
                    act("IssueInvoice", Some(key), "transient", Some(error.clone())),
                    Transition::Retry { error },
                ),
            }
        }
        "charge" => {
            let key = key(saga, "charge");
            let amount = data["amount_minor"].as_i64().unwrap_or_default();
            let currency = data["currency"].as_str().unwrap_or_default().to_owned();
            match context
                .payments
                .charge(&invoice, amount, &currency, &key)
                .await
            {
                Ok(reference) => {
                    data["payment_reference"] = json!(reference);
                    (
                        act("charge", Some(key), "ok", None),
                        Transition::Goto {
                            step: "record_payment",
                            data,
                            deadline: Deadline::Keep,
                        },
                    )
                }
                Err(PaymentError::Transient(error)) => (
                    act("charge", Some(key), "transient", Some(error.clone())),
                    Transition::Retry { error },
                ),
                Err(PaymentError::Declined(reason)) => {
                    data["reason"] = json!(reason);
                    (
                        act("charge", Some(key), "declined", Some(reason.clone())),
                        Transition::Compensate {
                            step: "mark_overdue",
                            reason,
                            data,
                        },
                    )
                }
            }
        }
        "record_payment" => {
            let key = key(saga, "record_payment");
            let body = json!({ "amount_minor": data["amount_minor"], "currency": data["currency"], "payment_reference": data["payment_reference"] });
            match context
                .commands
                .post(
                    tenant,
                    &format!("/v1/invoices/{invoice}/payments"),
                    &body,
                    &key,
                )
                .await
            {
                Sent::Accepted(_) => (
                    act("RecordPayment", Some(key), "ok", None),
                    Transition::Finish {
                        status: "completed",
                        data,
                    },
                ),
                Sent::Rejected { status, problem } => (
                    act(
                        "RecordPayment",
                        Some(key),
                        "rejected",
                        Some(format!("{status}: {problem}")),
                    ),
                    Transition::Finish {
                        status: "parked",
                        data,
                    },
                ),
                Sent::Transient(error) => (
                    act("RecordPayment", Some(key), "transient", Some(error.clone())),
                    Transition::Retry { error },
                ),
            }
        }
        // Compensating business actions.
        "mark_overdue" => {
            let body = json!({ "reason": data["reason"].as_str().unwrap_or("payment failed") });
            let path = format!("/v1/invoices/{invoice}/overdue");
            let then = Transition::Goto {
                step: "pause_agents",
                data,
                deadline: Deadline::Keep,
            };
            compensating_command(
                context,
                saga,
                "MarkInvoiceOverdue",
                &path,
                &body,
                key(saga, "mark_overdue"),
                then,
            )
            .await
        }
        "pause_agents" => {
            set_agents(
                context,
                saga,
                data,
                "pause",
                json!({ "reason": "payment overdue" }),
            )
            .await
        }
        // billing_recovery: the overdue invoice was paid.
        "resume_agents" => set_agents(context, saga, data, "deploy", json!({})).await,
        other => (
            Vec::new(),
            Transition::Retry {
                error: format!("unknown step {other}"),
            },
        ),
    }
}

/// Pauses (or redeploys) each agent in turn, one idempotent command per agent.
async fn set_agents(
    context: &Context,
    saga: &SagaInstance,
    mut data: Value,
    action: &str,
    body: Value,
) -> (Vec<Action>, Transition) {
    if data["agents"].is_null() {
        match deployed_agents(context, &saga.tenant_id).await {
            Ok(agents) => data["agents"] = json!(agents),
            Err(error) => {
                return (
                    Vec::new(),
                    Transition::Retry {
                        error: error.to_string(),
                    },
                )
            }
        }
    }
    let agents: Vec<String> = data["agents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut log = Vec::new();
    for agent in &agents {
        let key = format!("saga:{}:{action}:{agent}", saga.saga_id);
        match context
            .commands
            .post(
                &saga.tenant_id,
                &format!("/v1/agents/{agent}/{action}"),
                &body,
                &key,
            )
            .await
        {
            // 409: already paused / deployed / retired: nothing to do for it.
            Sent::Accepted(_) | Sent::Rejected { status: 409, .. } => {
                log.extend(act(action, Some(key), "ok", Some(agent.clone())))
            }
            Sent::Rejected { status, problem } => log.extend(act(
                action,
                Some(key),
                "rejected",
                Some(format!("{agent}: {status} {problem}")),
            )),
            Sent::Transient(error) => {
                log.extend(act(action, Some(key), "transient", Some(error.clone())));
                return (log, Transition::Retry { error });
            }
        }
    }
    let status = if saga.saga_type == RECOVERY {
        "completed"
    } else {
        "compensated"
    };
    (log, Transition::Finish { status, data })
}

fn total(body: &Value) -> i64 {
    body["line_items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    i["quantity"].as_i64().unwrap_or(0)
                        * i["unit_amount_minor"].as_i64().unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The invoice for the period from the usage read model: a base fee, each customer message
/// handled (replies are not billed), each completed task, and the LLM tokens the replies
/// consumed.
async fn invoice_body(context: &Context, saga: &SagaInstance) -> Result<Value, anyhow::Error> {
    use projectors::{Generation, ProjectionName};
    let (start, end) = (
        saga.data["period_start"].as_str().unwrap_or_default(),
        saga.data["period_end"].as_str().unwrap_or_default(),
    );
    // Created on first use; then entered inside the transaction, which keeps a rebuild's swap
    // from dropping it under the query.
    Generation::live(&context.pool, ProjectionName::Usage).await?;
    let mut tx = context.pool.begin().await?;
    Generation::enter_live(&mut tx, ProjectionName::Usage).await?;
    let (messages, tasks, tokens): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(messages_received), 0)::bigint, coalesce(sum(tasks_completed), 0)::bigint,
                coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint
         FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date",
    )
    .bind(&saga.tenant_id)
    .bind(start)
    .bind(end)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let prices = &context.prices;
    let mut items = vec![
        json!({ "description": "Platform fee", "quantity": 1, "unit_amount_minor": prices.base_fee_minor }),
    ];
    if messages > 0 {
        items.push(json!({ "description": "Customer messages", "quantity": messages, "unit_amount_minor": prices.per_message_minor }));
    }
    if tasks > 0 {
        items.push(json!({ "description": "Completed tasks", "quantity": tasks, "unit_amount_minor": prices.per_completed_task_minor }));
    }
    if tokens > 0 {
        // Per started thousand: 1,001 tokens are two units.
        let thousands = (tokens + 999) / 1_000;
        items.push(json!({ "description": "LLM tokens (per 1,000)", "quantity": thousands, "unit_amount_minor": prices.per_thousand_tokens_minor }));
    }
    Ok(
        json!({ "period_start": start, "period_end": end, "currency": prices.currency, "line_items": items }),
    )
}

async fn deployed_agents(context: &Context, tenant: &str) -> Result<Vec<Uuid>, anyhow::Error> {
    use projectors::{Generation, ProjectionName};
    Generation::live(&context.pool, ProjectionName::Agents).await?;
    let mut tx = context.pool.begin().await?;
    Generation::enter_live(&mut tx, ProjectionName::Agents).await?;
    let ids = sqlx::query_scalar("SELECT agent_id FROM agents WHERE tenant_id = $1 AND status = 'deployed' ORDER BY agent_id")
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids)
}

/// Retries ran out: charging counts as failed (overdue, pause); a compensation parks.
pub(super) fn on_exhausted(saga: &SagaInstance, error: &str) -> Transition {
    let mut data = saga.data.clone();
    data["reason"] = json!(format!("payment failed after retries: {error}"));
    match saga.step.as_str() {
        "charge" => Transition::Compensate {
            step: "mark_overdue",
            reason: error.to_owned(),
            data,
        },
        _ => Transition::Finish {
            status: "parked",
            data,
        },
    }
}
