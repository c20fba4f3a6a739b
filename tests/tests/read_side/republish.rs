//! A record published twice (as the relay may after a crash) changes nothing the second time.

use std::time::Duration;

use projectors::service::Service;
use projectors::ProjectionName;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tests::{projector_settings, read_all_records, Platform, PlatformOptions};
use tokio_util::sync::CancellationToken;

use crate::support::{caught_up, fingerprint, history};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_republished_event_is_a_no_op() {
    let platform = Platform::start("projdup", PlatformOptions::default()).await;
    let events = history(&platform, 20, 10).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    let service = Service::build(&projector_settings(&platform), ProjectionName::ALL.to_vec())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(service.run(stop.clone()));
    caught_up(&platform, Duration::from_secs(60)).await;
    let mut before = Vec::new();
    for projection in ProjectionName::ALL {
        before.push(fingerprint(&platform, projection).await);
    }

    // Publish every record again, as a relay re-sending its in-flight records would.
    let records = read_all_records(
        &platform.brokers,
        &platform.topic_prefix,
        events,
        Duration::from_secs(30),
    )
    .await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &platform.brokers)
        .create()
        .unwrap();
    for record in &records {
        let headers = record
            .headers
            .iter()
            .fold(OwnedHeaders::new(), |h, (key, value)| {
                h.insert(Header {
                    key: key.as_str(),
                    value: Some(value.as_str()),
                })
            });
        let again = FutureRecord::to(&record.topic)
            .key(&record.key)
            .payload(&record.payload)
            .headers(headers);
        producer
            .send(again, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    caught_up(&platform, Duration::from_secs(60)).await;
    let mut after = Vec::new();
    for projection in ProjectionName::ALL {
        after.push(fingerprint(&platform, projection).await);
    }
    assert_eq!(after, before, "duplicates changed a read model");
    stop.cancel();
    running.await.unwrap().unwrap();
}
