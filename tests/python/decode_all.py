"""Decode every record of the four AgentHub topics with Confluent's own Python client.

Used by the foreign-client scenario: it proves a partner holding only the schema registry
URL and the topics can decode everything with an off-the-shelf AvroDeserializer.
Prints a JSON summary; exits non-zero when a record does not decode or disagrees with
its headers.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    deserializer = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": f"python-partner-{time.time_ns()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    topics = [f"{args.prefix}.{name}" for name in ("agents", "tasks", "conversations", "billing")]
    consumer.subscribe(topics)
    decoded, event_types, seen_topics = 0, set(), set()
    deadline = time.monotonic() + args.timeout
    while decoded < args.expect and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            print(f"consumer error: {message.error()}", file=sys.stderr)
            continue
        value = deserializer(message.value(), SerializationContext(message.topic(), MessageField.VALUE))
        headers = {k: v.decode() for k, v in (message.headers() or [])}
        metadata = value["metadata"]
        checks = {
            "event_type": metadata["event_type"] == headers["event_type"],
            "aggregate_id": str(metadata["aggregate_id"]) == message.key().decode() == headers["aggregate_id"],
            "sequence": str(metadata["sequence"]) == headers["sequence"],
            "event_id": str(metadata["event_id"]) == headers["event_id"],
            "tenant_id": metadata["tenant_id"] == headers["tenant_id"],
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            print(f"record disagrees with its headers on {failed}: {value} {headers}", file=sys.stderr)
            return 1
        decoded += 1
        event_types.add(metadata["event_type"])
        seen_topics.add(message.topic())
    consumer.close()
    print(json.dumps({"decoded": decoded, "event_types": sorted(event_types), "topics": sorted(seen_topics)}))
    return 0 if decoded >= args.expect else 2


if __name__ == "__main__":
    sys.exit(main())
