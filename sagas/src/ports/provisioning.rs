//! The provisioning port: an agent's knowledge base and web-chat widget.

use std::time::Duration;

use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub knowledge_base_id: String,
    pub widget_embed_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisioningError {
    #[error("provisioning temporarily unavailable: {0}")]
    Transient(String),
    #[error("provisioning refused: {0}")]
    Rejected(String),
}

#[derive(Clone)]
pub enum Provisioner {
    /// Deterministic ids and embed code; `always_fail` injects a transient failure.
    Local { always_fail: bool },
    /// A provisioning service: `POST {base}/v1/provisionings`, `DELETE {base}/v1/provisionings/{agent}`.
    Http {
        client: reqwest::Client,
        base_url: String,
    },
}

impl Provisioner {
    pub fn http(base_url: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client builds");
        Self::Http {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates (or returns the existing) knowledge base and widget of `agent_id`.
    ///
    /// # Errors
    /// Transient or rejected failures.
    pub async fn provision(
        &self,
        tenant: &str,
        agent_id: &str,
    ) -> Result<Provisioned, ProvisioningError> {
        match self {
            Self::Local { always_fail: true } => Err(ProvisioningError::Transient("injected failure".into())),
            Self::Local { always_fail: false } => Ok(Provisioned {
                knowledge_base_id: format!("kb-{agent_id}"),
                widget_embed_code: format!(
                    "<script src=\"/widget.js\" data-tenant=\"{tenant}\" data-agent=\"{agent_id}\" async></script>"
                ),
            }),
            Self::Http { client, base_url } => {
                let response = client
                    .post(format!("{base_url}/v1/provisionings"))
                    .json(&json!({ "tenant_id": tenant, "agent_id": agent_id }))
                    .send()
                    .await
                    .map_err(|e| ProvisioningError::Transient(e.to_string()))?;
                let status = response.status();
                if status.is_server_error() || status.as_u16() == 429 {
                    return Err(ProvisioningError::Transient(format!("answered {status}")));
                }
                if !status.is_success() {
                    return Err(ProvisioningError::Rejected(format!("answered {status}")));
                }
                let body: serde_json::Value = response.json().await.map_err(|e| ProvisioningError::Transient(e.to_string()))?;
                let field = |name: &str| body[name].as_str().map(str::to_owned).ok_or_else(|| ProvisioningError::Rejected(format!("no {name}")));
                Ok(Provisioned { knowledge_base_id: field("knowledge_base_id")?, widget_embed_code: field("widget_embed_code")? })
            }
        }
    }

    /// Removes what `provision` created (idempotent).
    ///
    /// # Errors
    /// Transient failures.
    pub async fn deprovision(&self, agent_id: &str) -> Result<(), ProvisioningError> {
        match self {
            Self::Local { .. } => Ok(()),
            Self::Http { client, base_url } => {
                let response = client
                    .delete(format!("{base_url}/v1/provisionings/{agent_id}"))
                    .send()
                    .await
                    .map_err(|e| ProvisioningError::Transient(e.to_string()))?;
                if response.status().is_success() || response.status().as_u16() == 404 {
                    Ok(())
                } else {
                    Err(ProvisioningError::Transient(format!(
                        "answered {}",
                        response.status()
                    )))
                }
            }
        }
    }
}
