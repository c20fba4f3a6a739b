//! Task execution: happy path, LLM failure, no agent, SIGKILL, deadline while down.

use std::process::{Command, Stdio};
use std::time::Duration;

use tests::{workspace_binary, KillOnDrop};

use crate::support::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_created_task_is_assigned_started_and_completed_once() {
    let world = World::start("sagaok").await;
    world.deployed_agent().await;
    world.run_sagas(world.saga_settings()).await;
    let task = world.create_task("Summarise the week").await;
    assert_eq!(
        world.saga_outcome(&task, Duration::from_secs(60)).await.0,
        "completed"
    );
    assert_eq!(
        world.events_of(&task).await,
        [
            "TaskCreated",
            "TaskAssigned",
            "TaskStarted",
            "TaskCompleted"
        ]
    );
    let log = world.step_log(&task).await;
    let commands: Vec<&str> = log
        .iter()
        .filter(|(_, o)| o == "ok")
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "pick_agent",
            "AssignTask",
            "StartTask",
            "llm",
            "CompleteTask"
        ]
    );
    // One trace from the REST call that created the task through every command of the saga.
    let traces = world.trace_ids_of(&task).await;
    assert_eq!(traces.len(), 4);
    assert!(traces.iter().all(|t| *t == traces[0]), "{traces:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn llm_failures_retry_then_fail_the_task() {
    let world = World::start("sagallm").await;
    world.deployed_agent().await;
    let mut settings = world.saga_settings();
    settings.local_llm_always_fail = true;
    world.run_sagas(settings).await;
    let task = world.create_task("Doomed").await;
    assert_eq!(
        world.saga_outcome(&task, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&task).await,
        ["TaskCreated", "TaskAssigned", "TaskStarted", "TaskFailed"]
    );
    let log = world.step_log(&task).await;
    assert_eq!(
        log.iter()
            .filter(|(a, o)| a == "llm" && o == "transient")
            .count(),
        5,
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_deployed_agent_the_task_is_cancelled() {
    let world = World::start("saganoagent").await;
    world.run_sagas(world.saga_settings()).await;
    let task = world.create_task("Nobody home").await;
    assert_eq!(
        world.saga_outcome(&task, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&task).await,
        ["TaskCreated", "TaskCancelled"]
    );
}

fn spawn_sagas(world: &World, latency_ms: u64, completion_deadline_seconds: i64) -> KillOnDrop {
    let settings = world.saga_settings();
    Command::new(workspace_binary("sagas"))
        .env("SAGAS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &settings.database_url)
        .env("KAFKA_BROKERS", &settings.kafka_brokers)
        .env("SCHEMA_REGISTRY_URL", &settings.schema_registry_url)
        .env("TOPIC_PREFIX", &settings.topic_prefix)
        .env("COMMAND_API_URL", &settings.command_api_url)
        .env("JWT_SECRET", tests::JWT_SECRET)
        .env("LOCAL_LLM_LATENCY_MS", latency_ms.to_string())
        .env(
            "TASK_COMPLETION_DEADLINE_SECONDS",
            completion_deadline_seconds.to_string(),
        )
        .env("SAGA_MAX_BACKOFF_MS", "200")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(KillOnDrop)
        .expect("sagas starts")
}

async fn sagas_at_step(world: &World, step: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM saga_instances WHERE step = $1 AND status = 'running'")
        .bind(step)
        .fetch_one(&world.platform.pool)
        .await
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_workflows_then_restart_finishes_them_all_once() {
    let world = World::start("sagakill").await;
    world.deployed_agent().await;
    world.deployed_agent().await;
    let mut process = spawn_sagas(&world, 300, 600);
    let mut tasks = Vec::new();
    for n in 0..20 {
        tasks.push(world.create_task(&format!("task {n}")).await);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sagas_at_step(&world, "generate").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no saga reached the LLM step"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.kill(); // SIGKILL
    let mut restarted = spawn_sagas(&world, 0, 600);
    for task in &tasks {
        let outcome = world.saga_outcome(task, Duration::from_secs(120)).await;
        assert_eq!(
            outcome.0,
            "completed",
            "task {task}: {outcome:?}, steps {:?}",
            world.step_log(task).await
        );
        assert_eq!(
            world.events_of(task).await,
            [
                "TaskCreated",
                "TaskAssigned",
                "TaskStarted",
                "TaskCompleted"
            ],
            "task {task}"
        );
    }
    restarted.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadline_passing_while_the_sagas_are_down_fires_after_restart() {
    let world = World::start("sagadeadline").await;
    world.deployed_agent().await;
    // The LLM takes 5 s, the task must complete within 2 s of starting.
    let mut process = spawn_sagas(&world, 5_000, 2);
    let task = world.create_task("Slow one").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sagas_at_step(&world, "generate").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the saga never reached the LLM step"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.kill(); // SIGKILL
    tokio::time::sleep(Duration::from_secs(3)).await; // the deadline passes while nothing runs
    let mut restarted = spawn_sagas(&world, 5_000, 2);
    assert_eq!(
        world.saga_outcome(&task, Duration::from_secs(60)).await.0,
        "compensated"
    );
    assert_eq!(
        world.events_of(&task).await,
        ["TaskCreated", "TaskAssigned", "TaskStarted", "TaskFailed"]
    );
    assert!(world
        .step_log(&task)
        .await
        .contains(&("deadline".to_owned(), "passed".to_owned())));
    restarted.kill();
}
