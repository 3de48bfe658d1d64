"""Consuming a RabbitMQ queue with bounded prefetch, acknowledging each message only after its
handler returned (its transaction committed), and dead-lettering poison: a message the
handler refuses (`PoisonMessageError`) at once, one that keeps failing after
`max_attempts` deliveries. Pair it with kit.inbox for exactly-once effects. Not for:
publishing (kit.outbox)."""

from apiforge.kit.consumer.queue import Delivery, MessageHandler, PoisonMessageError, QueueConsumer

__all__ = ["Delivery", "MessageHandler", "PoisonMessageError", "QueueConsumer"]
