//! Subscription commands: the tenant's plan and agent quota, and the slots deployments reserve.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::subscription::{SubscriptionCommand, SubscriptionId};
use domain::AgentId;
use serde::Deserialize;
use utoipa::ToSchema;

use super::path_id;
use super::tasks::agent_snapshot;
use store::Target;

use crate::dispatch::{dispatch, CommandRequest, Outcome};
use crate::extract::{CommandBody, Commander, Preconditions};
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActivateSubscription {
    /// 1–50 characters, e.g. "pro".
    plan: String,
    /// How many agents may be deployed at once (1–10,000).
    agent_quota: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReserveSlot {
    agent_id: String,
}

async fn run(
    state: &AppState,
    request: CommandRequest,
    command: SubscriptionCommand,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let id = SubscriptionId::for_tenant(&request.caller.tenant).to_string();
    dispatch(state, &state.subscriptions, request, &id, command, outcome).await
}

#[utoipa::path(post, path = "/v1/subscriptions", request_body = ActivateSubscription, tag = "subscriptions",
    responses((status = 201, body = crate::dispatch::CommandAccepted), (status = 409), (status = 422)))]
pub(crate) async fn activate(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<ActivateSubscription>,
) -> Result<Response, ApiError> {
    let ActivateSubscription { plan, agent_quota } = body.value;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    let command = SubscriptionCommand::ActivateSubscription { plan, agent_quota };
    run(
        &state,
        request,
        command,
        Outcome::Created {
            collection: "subscriptions",
            target: Target::Existing,
        },
    )
    .await
}

#[utoipa::path(post, path = "/v1/subscriptions/slots", request_body = ReserveSlot, tag = "subscriptions",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn reserve(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<ReserveSlot>,
) -> Result<Response, ApiError> {
    let agent = agent_snapshot(&state, &body.value.agent_id).await?;
    if agent.tenant.as_ref() != Some(&caller.tenant) {
        return Err(domain::DomainError::field("agent_id", "no such agent").into());
    }
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    run(
        &state,
        request,
        SubscriptionCommand::ReserveAgentSlot {
            agent_id: agent.agent_id,
        },
        Outcome::Changed,
    )
    .await
}

#[utoipa::path(post, path = "/v1/subscriptions/slots/{agent_id}/release", tag = "subscriptions",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 409)))]
pub(crate) async fn release(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
    caller: Commander,
    preconditions: Preconditions,
    body: super::NoBody,
) -> Result<Response, ApiError> {
    let agent_id = path_id(&agent_id, AgentId::parse)?;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    run(
        &state,
        request,
        SubscriptionCommand::ReleaseAgentSlot { agent_id },
        Outcome::Changed,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseBillingPeriod {
    #[schema(value_type = String, format = Date)]
    period_start: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    period_end: chrono::NaiveDate,
}

/// Closes a billing period; the billing saga invoices it from the recorded usage and charges it.
#[utoipa::path(post, path = "/v1/subscriptions/billing-periods", request_body = CloseBillingPeriod, tag = "subscriptions",
    responses((status = 200, body = crate::dispatch::CommandAccepted), (status = 404), (status = 422)))]
pub(crate) async fn close_period(
    State(state): State<AppState>,
    caller: Commander,
    preconditions: Preconditions,
    body: CommandBody<CloseBillingPeriod>,
) -> Result<Response, ApiError> {
    let CloseBillingPeriod {
        period_start,
        period_end,
    } = body.value;
    let request = CommandRequest {
        caller,
        preconditions,
        request_hash: body.request_hash,
    };
    run(
        &state,
        request,
        SubscriptionCommand::CloseBillingPeriod {
            period_start,
            period_end,
        },
        Outcome::Changed,
    )
    .await
}
