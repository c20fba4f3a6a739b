//! The payment port: charging an invoice.

use std::time::Duration;

use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// Try again later with the same idempotency key.
    #[error("payment gateway temporarily unavailable: {0}")]
    Transient(String),
    /// The charge was declined.
    #[error("payment declined: {0}")]
    Declined(String),
}

#[derive(Clone)]
pub enum Payments {
    /// Approves every charge with a reference derived from the key; `decline_all` declines.
    Local { decline_all: bool },
    /// A gateway: `POST {base}/v1/charges` with an `Idempotency-Key` header.
    Http {
        client: reqwest::Client,
        base_url: String,
        api_key: String,
    },
}

impl Payments {
    pub fn http(base_url: &str, api_key: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client builds");
        Self::Http {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
        }
    }

    /// Charges `amount_minor` of `currency` for `invoice`; the same key never charges twice.
    ///
    /// # Errors
    /// Transient failures or a decline.
    pub async fn charge(
        &self,
        invoice: &str,
        amount_minor: i64,
        currency: &str,
        key: &str,
    ) -> Result<String, PaymentError> {
        match self {
            Self::Local { decline_all: true } => {
                Err(PaymentError::Declined("card declined (injected)".into()))
            }
            Self::Local { decline_all: false } => Ok(format!("pay_{}", &key.replace(':', "_"))),
            Self::Http {
                client,
                base_url,
                api_key,
            } => {
                let response = client
                    .post(format!("{base_url}/v1/charges"))
                    .bearer_auth(api_key)
                    .header("idempotency-key", key)
                    .json(&json!({ "invoice_id": invoice, "amount_minor": amount_minor, "currency": currency }))
                    .send()
                    .await
                    .map_err(|e| PaymentError::Transient(e.to_string()))?;
                let status = response.status();
                if status.is_server_error() || status.as_u16() == 429 {
                    return Err(PaymentError::Transient(format!("answered {status}")));
                }
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                if !status.is_success() {
                    return Err(PaymentError::Declined(
                        body["error"].as_str().unwrap_or("declined").to_owned(),
                    ));
                }
                body["payment_reference"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        PaymentError::Transient("no payment_reference in the answer".into())
                    })
            }
        }
    }
}
