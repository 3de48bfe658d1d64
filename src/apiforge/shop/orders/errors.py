"""Orders' errors, each with a stable code clients can branch on."""

from apiforge.kit import ConflictError, NotFoundError


class OrderNotFoundError(NotFoundError):
    """Unknown order, or someone else's: the same answer, so ids reveal nothing."""

    code = "orders.order_not_found"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} was not found.")


class ProductUnavailableError(NotFoundError):
    """The product does not exist or has been archived (no longer sold)."""

    code = "orders.product_unavailable"

    def __init__(self, product_id: int) -> None:
        super().__init__(
            f"Product {product_id} does not exist or is no longer sold.",
            extra={"product_id": product_id},
        )


class InsufficientStockError(ConflictError):
    code = "orders.insufficient_stock"

    def __init__(self, product_id: int, requested: int, available: int) -> None:
        super().__init__(
            f"Product {product_id} has {available} in stock; {requested} requested.",
            extra={"product_id": product_id},
        )


class AlreadyPaidError(ConflictError):
    """A paid order is not cancelled: the money has moved (a refund is a separate matter)."""

    code = "orders.already_paid"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} is paid and can no longer be cancelled.")


class NotPayableError(ConflictError):
    """A payment for a cancelled order: the provider must refund it; the order stays
    cancelled."""

    code = "orders.not_payable"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} is cancelled and cannot be paid.")


class PaymentAmountMismatchError(ConflictError):
    """The amount paid is not the order's total."""

    code = "orders.payment_amount_mismatch"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"The amount paid does not match order {order_id}'s total.")


class AlreadyCancelledError(ConflictError):
    code = "orders.already_cancelled"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} is already cancelled.")
