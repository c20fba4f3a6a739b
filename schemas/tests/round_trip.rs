//! Every `.avsc` parses, and every event variant survives encode → Avro binary → decode.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use chrono::{NaiveDate, TimeZone, Utc};
use domain::agent::{
    Agent, AgentCommand, AgentConfigInput, AgentConfigPatch, AgentSnapshot, AgentStatus,
};
use domain::conversation::{Conversation, ConversationCommand, TokenUsage};
use domain::invoice::{Invoice, InvoiceCommand, LineItemInput};
use domain::subscription::{Subscription, SubscriptionCommand};
use domain::task::{Task, TaskCommand};
use domain::{AgentId, Aggregate, TenantId};
use schemas::{
    decode_value, encode_value, event_schema, read_event, read_event_directly, AnyEvent,
    EventMetadata, EVENT_SCHEMAS,
};
use uuid::Uuid;

/// Runs commands through an aggregate, returning every event produced.
fn run<A: Aggregate>(commands: Vec<A::Command>) -> Vec<A::Event> {
    let tenant = TenantId::parse("acme").unwrap();
    let mut state = A::default();
    let mut all = Vec::new();
    for command in commands {
        for event in state.execute(&tenant, command).expect("command accepted") {
            state.apply(event.clone());
            all.push(event);
        }
    }
    all
}

fn agent_id(n: u128) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(
        0x0190_b6c4_7e4c_7000_8000_0000_0000_0000 | n,
    ))
    .unwrap()
}

fn deployed(n: u128) -> AgentSnapshot {
    AgentSnapshot {
        agent_id: agent_id(n),
        tenant: Some(TenantId::parse("acme").unwrap()),
        status: AgentStatus::Deployed,
    }
}

fn create_agent() -> AgentCommand {
    AgentCommand::CreateAgent {
        name: "Bo".into(),
        industry: "retail".into(),
        config: AgentConfigInput {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            temperature: 1.0,
            max_tokens: 100,
            system_prompt: Some("Hi".into()),
        },
    }
}

fn every_event() -> Vec<AnyEvent> {
    let create = AgentCommand::CreateAgent {
        name: "Ada".into(),
        industry: "real_estate".into(),
        config: AgentConfigInput {
            provider: "anthropic".into(),
            model: "claude-sonnet-4".into(),
            temperature: 0.3,
            max_tokens: 4_000,
            system_prompt: None,
        },
    };
    let patch = AgentConfigPatch {
        temperature: Some(1.5),
        ..Default::default()
    };
    let agent = run::<Agent>(vec![
        create,
        AgentCommand::UpdateAgentConfig(patch),
        AgentCommand::DeployAgent,
        AgentCommand::PauseAgent {
            reason: Some("night".into()),
        },
        AgentCommand::RetireAgent { reason: None },
    ]);
    let task = |last: TaskCommand| {
        run::<Task>(vec![
            TaskCommand::CreateTask {
                title: "t".into(),
                description: Some("d".into()),
                priority: Some("urgent".into()),
            },
            TaskCommand::AssignTask { agent: deployed(1) },
            TaskCommand::AssignTask { agent: deployed(2) },
            TaskCommand::StartTask,
            last,
        ])
    };
    let mut tasks = task(TaskCommand::CompleteTask {
        result: "ok".into(),
    });
    tasks.push(
        task(TaskCommand::FailTask {
            reason: "no".into(),
        })
        .pop()
        .unwrap(),
    );
    tasks.push(
        task(TaskCommand::CancelTask { reason: None })
            .pop()
            .unwrap(),
    );
    let conversation = run::<Conversation>(vec![
        ConversationCommand::StartConversation {
            agent: deployed(1),
            channel: "telegram".into(),
            customer_ref: "@bob".into(),
        },
        ConversationCommand::ReceiveMessage {
            text: "héllo 👋".into(),
        },
        ConversationCommand::SendReply {
            text: "hi".into(),
            usage: None,
        },
        ConversationCommand::SendReply {
            text: "how can I help?".into(),
            usage: Some(TokenUsage {
                prompt_tokens: 812,
                completion_tokens: 64,
            }),
        },
        ConversationCommand::CloseConversation {
            reason: Some("done".into()),
        },
    ]);
    let issue = InvoiceCommand::IssueInvoice {
        period_start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        period_end: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        currency: "JPY".into(),
        line_items: vec![LineItemInput {
            description: "seats".into(),
            quantity: 2,
            unit_amount_minor: 1_500,
        }],
    };
    let mut invoices = run::<Invoice>(vec![
        issue.clone(),
        InvoiceCommand::RecordPayment {
            amount_minor: 3_000,
            currency: "JPY".into(),
            payment_reference: "p1".into(),
        },
    ]);
    invoices.push(
        run::<Invoice>(vec![
            issue.clone(),
            InvoiceCommand::MarkInvoiceOverdue {
                reason: "declined".into(),
            },
        ])
        .pop()
        .unwrap(),
    );
    invoices.push(
        run::<Invoice>(vec![
            issue,
            InvoiceCommand::VoidInvoice {
                reason: "dup".into(),
            },
        ])
        .pop()
        .unwrap(),
    );

    let deploying = |last: AgentCommand| {
        let mut events = run::<Agent>(vec![
            create_agent(),
            AgentCommand::RequestAgentDeployment,
            last,
        ]);
        events.split_off(1)
    };
    let mut agent = agent;
    agent.extend(deploying(AgentCommand::CompleteAgentDeployment {
        knowledge_base_id: "kb-1".into(),
        widget_embed_code: "<script></script>".into(),
    }));
    agent.extend(
        deploying(AgentCommand::FailAgentDeployment {
            reason: "quota".into(),
        })
        .split_off(1),
    );
    let subscription = run::<Subscription>(vec![
        SubscriptionCommand::ActivateSubscription {
            plan: "pro".into(),
            agent_quota: 3,
        },
        SubscriptionCommand::ReserveAgentSlot {
            agent_id: agent_id(1),
        },
        SubscriptionCommand::ReleaseAgentSlot {
            agent_id: agent_id(1),
        },
        SubscriptionCommand::CloseBillingPeriod {
            period_start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        },
    ]);

    agent
        .into_iter()
        .map(AnyEvent::Agent)
        .chain(tasks.into_iter().map(AnyEvent::Task))
        .chain(conversation.into_iter().map(AnyEvent::Conversation))
        .chain(invoices.into_iter().map(AnyEvent::Invoice))
        .chain(subscription.into_iter().map(AnyEvent::Subscription))
        .collect()
}

fn metadata(event: &AnyEvent, sequence: i64) -> EventMetadata {
    let aggregate_id = Uuid::now_v7();
    EventMetadata {
        event_id: EventMetadata::event_id_for(event.aggregate_type(), &aggregate_id, sequence),
        event_type: event.event_type().to_owned(),
        aggregate_type: event.aggregate_type().to_owned(),
        aggregate_id,
        sequence,
        tenant_id: "acme".into(),
        occurred_at: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        correlation_id: "corr-1".into(),
        causation_id: (sequence % 2 == 0).then(|| "cause".to_owned()),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
    }
}

#[test]
fn every_schema_file_parses_and_is_listed() {
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/avro"))
        .unwrap()
        .count();
    assert_eq!(
        files,
        EVENT_SCHEMAS.len(),
        "every .avsc is in EVENT_SCHEMAS and vice versa"
    );
    for schema in EVENT_SCHEMAS {
        let parsed = schema.schema();
        assert_eq!(
            parsed.name().map(|n| n.fullname(None)),
            Some(schema.record_name())
        );
    }
}

#[test]
fn every_event_variant_round_trips_through_its_schema() {
    let events = every_event();
    let mut seen: Vec<&str> = events.iter().map(AnyEvent::event_type).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        EVENT_SCHEMAS.len(),
        "the sample covers every event type: {seen:?}"
    );

    for (index, event) in events.into_iter().enumerate() {
        let meta = metadata(&event, index as i64 + 1);
        let schema = event_schema(event.event_type()).unwrap().schema();
        let value = encode_value(&meta, &event).unwrap();
        let bytes = GenericDatumWriter::builder(schema)
            .build()
            .unwrap()
            .write_value_to_vec(value)
            .unwrap();
        let reader = GenericDatumReader::builder(schema).build().unwrap();
        let decoded = reader.read_value(&mut bytes.as_slice()).unwrap();
        let (meta_back, event_back) = decode_value(decoded).unwrap();
        assert_eq!(meta_back, meta);
        assert_eq!(event_back, event);
        // The projectors' path: straight from the binary, without an Avro value.
        let reader = GenericDatumReader::builder(schema)
            .human_readable(true)
            .build()
            .unwrap();
        let direct = read_event_directly(&reader, &bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", event.event_type()));
        assert_eq!(direct, (meta.clone(), event.clone()));
        assert_eq!(read_event(&reader, &bytes).unwrap(), (meta, event));
    }
}

#[test]
fn a_record_that_does_not_fit_its_schema_is_refused() {
    let event = every_event().remove(0);
    let schema = event_schema(event.event_type()).unwrap().schema();
    let reader = GenericDatumReader::builder(schema)
        .human_readable(true)
        .build()
        .unwrap();
    let error = read_event(&reader, &[0x02, 0xff]).unwrap_err().to_string();
    assert!(error.contains("does not fit its schema"), "{error}");
}

#[test]
fn stored_json_payloads_read_back_as_events() {
    for event in every_event() {
        let json = match &event {
            AnyEvent::Agent(e) => serde_json::to_value(e),
            AnyEvent::Task(e) => serde_json::to_value(e),
            AnyEvent::Conversation(e) => serde_json::to_value(e),
            AnyEvent::Invoice(e) => serde_json::to_value(e),
            AnyEvent::Subscription(e) => serde_json::to_value(e),
        }
        .unwrap();
        assert_eq!(
            AnyEvent::from_stored(event.aggregate_type(), json).unwrap(),
            event
        );
    }
}
