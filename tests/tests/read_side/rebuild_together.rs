//! Several projections rebuilt together share one read of the topics, and each is still
//! checked and swapped on its own.

use std::time::Duration;

use projectors::rebuild::{rebuild_together, Check};
use projectors::{Generation, ProjectionName};
use tests::{projector_settings, Platform, PlatformOptions};

use crate::support::{all_projections_caught_up, caught_up, count, edit_one_task_title, history};

async fn live_generation(platform: &Platform, projection: ProjectionName) -> i32 {
    Generation::live(&platform.pool, projection)
        .await
        .unwrap()
        .number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projections_rebuilt_together_are_checked_and_swapped_each_on_its_own() {
    let platform = Platform::start("projtogether", PlatformOptions::default()).await;
    history(&platform, 30, 20).await;
    let (stop, running) = all_projections_caught_up(&platform).await;
    let events = count(&platform, ProjectionName::Audit, "audit_events").await;
    let messages = count(&platform, ProjectionName::Conversations, "messages").await;
    // The tasks view drifts from its events; the others are what their events say.
    edit_one_task_title(&platform).await;

    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    // Named twice, rebuilt once.
    let asked = [
        ProjectionName::Tasks,
        ProjectionName::Audit,
        ProjectionName::Conversations,
        ProjectionName::Tasks,
    ];
    let results = rebuild_together(&runtime, &asked, false, Check::MustMatch)
        .await
        .unwrap();
    assert_eq!(results.len(), 3, "one result per distinct projection");
    let mut results = results.into_iter();

    let (projection, tasks) = results.next().unwrap();
    assert_eq!(projection, ProjectionName::Tasks);
    let error = tasks.expect_err("the tasks view differs").to_string();
    assert!(
        error.contains("tasks: live has 30 rows, rebuilt has 30; 2 rows differ"),
        "{error}"
    );
    assert_eq!(
        live_generation(&platform, ProjectionName::Tasks).await,
        1,
        "the refused rebuild leaves the live tasks view serving"
    );

    for (expected, (projection, result)) in [ProjectionName::Audit, ProjectionName::Conversations]
        .into_iter()
        .zip(results)
    {
        assert_eq!(projection, expected);
        let rebuilt = result.unwrap_or_else(|e| panic!("{projection}: {e}"));
        assert_eq!(rebuilt.projection, projection);
        assert_eq!((rebuilt.from, rebuilt.to), (1, 2), "{projection}");
        assert!(rebuilt.events > 0, "{projection} applied its events");
        assert_eq!(
            live_generation(&platform, projection).await,
            2,
            "{projection}"
        );
    }
    assert_eq!(
        count(&platform, ProjectionName::Audit, "audit_events").await,
        events,
        "the rebuilt audit view holds every event"
    );
    assert_eq!(
        count(&platform, ProjectionName::Conversations, "messages").await,
        messages
    );

    // The swapped generations keep up with new events.
    history(&platform, 5, 0).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    caught_up(&platform, Duration::from_secs(60)).await;
    assert!(count(&platform, ProjectionName::Audit, "audit_events").await > events);
    stop.cancel();
    running.await.unwrap().unwrap();
}
