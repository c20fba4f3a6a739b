#!/usr/bin/env bash
# One-shot job: creates AgentHub's topics on Apache Kafka, then exits 0.
# Runs in the apache/kafka image (docker-compose.yml service `kafka-init`, Kubernetes Job
# `agenthub-topics`). Creating a topic that exists is a no-op (--if-not-exists), so the job may
# run again after every deploy.
#
#   <prefix>.agents|tasks|conversations|billing   the event log: retention forever, so a
#                                                 projection can always be rebuilt from offset 0
#   <prefix>.dlq.<projection>                     dead letters of each projection, kept forever
#
# The command-api's relay and the projectors would create missing topics themselves (same names,
# same retention); creating them here first makes partitions and replication an operator's
# decision instead of whichever service started first, and lets brokers run with
# auto.create.topics.enable=false.
set -euo pipefail

BOOTSTRAP="${KAFKA_BROKERS:-kafka:9092}"
PREFIX="${TOPIC_PREFIX:-agenthub}"
PARTITIONS="${TOPIC_PARTITIONS:-3}"
REPLICATION="${TOPIC_REPLICATION:-1}"
MIN_ISR="${TOPIC_MIN_INSYNC_REPLICAS:-1}"
# The projectors create dead-letter topics with one partition: keep that unless you need more.
DLQ_PARTITIONS="${DLQ_PARTITIONS:-1}"
WAIT_SECONDS="${KAFKA_WAIT_SECONDS:-120}"
TOPICS_SH="${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}"

EVENT_TOPICS=(agents tasks conversations billing)
PROJECTIONS=(agents tasks conversations billing usage audit)

echo "waiting up to ${WAIT_SECONDS}s for the brokers at ${BOOTSTRAP}"
deadline=$((SECONDS + WAIT_SECONDS))
until "$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "brokers at ${BOOTSTRAP} not reachable after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done

create() {
  local topic="$1" partitions="$2"
  "$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" \
    --partitions "$partitions" \
    --replication-factor "$REPLICATION" \
    --config retention.ms=-1 \
    --config retention.bytes=-1 \
    --config min.insync.replicas="$MIN_ISR"
}

for topic in "${EVENT_TOPICS[@]}"; do
  create "${PREFIX}.${topic}" "$PARTITIONS"
done
for projection in "${PROJECTIONS[@]}"; do
  create "${PREFIX}.dlq.${projection}" "$DLQ_PARTITIONS"
done

"$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --describe --topic "${PREFIX}\..*"
echo "topics ready"
