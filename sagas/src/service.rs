//! The sagas service: intake, executor workers and the operator API in one process.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use platform::Authenticator;
use schemas::RegistryCodec;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::commands::CommandClient;
use crate::intake::Intake;
use crate::ports::llm::{Llm, LocalBehaviour};
use crate::ports::payments::Payments;
use crate::ports::provisioning::Provisioner;
use crate::settings::Settings;
use crate::workflows::billing_cycle::Prices;
use crate::{executor, Context, Timing};

pub struct Service {
    listener: TcpListener,
    context: Context,
    intake: Arc<Intake>,
    auth: Arc<Authenticator>,
    workers: usize,
}

fn llm(settings: &Settings) -> anyhow::Result<Llm> {
    match settings.llm_provider.as_str() {
        "local" => Ok(Llm::local(LocalBehaviour {
            fail_every: settings.local_llm_fail_every,
            always_fail: settings.local_llm_always_fail,
            latency: Duration::from_millis(settings.local_llm_latency_ms),
        })),
        "openai" => Ok(Llm::OpenAiCompatible {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            base_url: settings.llm_base_url.clone(),
            api_key: settings.llm_api_key.clone(),
            model: settings.llm_model.clone(),
        }),
        other => anyhow::bail!("LLM_PROVIDER must be local or openai, not {other}"),
    }
}

impl Service {
    /// # Errors
    /// When the database cannot be prepared, a setting is invalid or the port is taken.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        store::create_database_if_missing(&settings.database_url).await?;
        // A worker holds its claim's transaction while its step may read on a second connection;
        // the intake and the operator API need theirs too.
        let pool =
            store::connect(&settings.database_url, 2 * (settings.workers as u32) + 4).await?;
        crate::migrate(&pool)
            .await
            .context("migrating saga tables")?;
        projectors::generations::migrate(&pool)
            .await
            .context("migrating projector tables")?;
        let auth = Arc::new(Authenticator::configure(
            settings.jwt_secret.clone(),
            settings.jwt_public_key_file.as_deref(),
        )?);
        let timing = Timing {
            start_deadline: chrono::Duration::seconds(settings.task_start_deadline_seconds),
            completion_deadline: chrono::Duration::seconds(
                settings.task_completion_deadline_seconds,
            ),
            max_attempts: settings.max_attempts,
            max_backoff: Duration::from_millis(settings.max_backoff_ms),
        };
        let context = Context {
            pool: pool.clone(),
            commands: CommandClient::new(&settings.command_api_url, auth.clone()),
            llm: llm(settings)?,
            payments: match &settings.payments_url {
                Some(url) => Payments::http(url, &settings.payments_api_key),
                None => Payments::Local {
                    decline_all: settings.local_payments_decline_all,
                },
            },
            prices: Prices {
                currency: settings.billing_currency.clone(),
                base_fee_minor: settings.billing_base_fee_minor,
                per_message_minor: settings.billing_per_message_minor,
                per_completed_task_minor: settings.billing_per_completed_task_minor,
                per_thousand_tokens_minor: settings.billing_per_thousand_tokens_minor,
            },
            provisioner: match &settings.provisioning_url {
                Some(url) => Provisioner::http(url),
                None => Provisioner::Local {
                    always_fail: settings.local_provisioning_always_fail,
                },
            },
            timing,
        };
        let intake = Arc::new(Intake {
            pool,
            codec: Arc::new(RegistryCodec::new(
                &settings.schema_registry_url,
                &settings.topic_prefix,
            )),
            brokers: settings.kafka_brokers.clone(),
            topic_prefix: settings.topic_prefix.clone(),
        });
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        Ok(Self {
            listener,
            context,
            intake,
            auth,
            workers: settings.workers,
        })
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    /// # Errors
    /// When serving HTTP fails.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        let intake = self.intake.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            while !stop.is_cancelled() {
                if let Err(error) = intake.run(&stop).await {
                    tracing::error!(%error, "saga intake failed; restarting");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        });
        for _ in 0..self.workers {
            tasks.spawn(executor::work(self.context.clone(), shutdown.clone()));
        }
        let router = crate::api::router(self.context.pool.clone(), self.auth.clone());
        let stop = shutdown.clone();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await?;
        if tokio::time::timeout(Duration::from_secs(15), async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tasks.abort_all();
        }
        Ok(())
    }
}
