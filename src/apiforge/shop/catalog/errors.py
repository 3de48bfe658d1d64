"""Catalog errors, each with a stable code.

    NotFoundError (404)
    ├── ProductNotFoundError       catalog.product_not_found   (unknown or archived product)
    └── CategoryNotFoundError      catalog.category_not_found  (unknown category in the URL)
    ValidationFailedError (422)
    ├── UnknownCategoryError       catalog.category_not_found  (unknown category in a body)
    ├── ImportRowsInvalidError     catalog.import_invalid      (bad rows; `errors` name lines)
    └── ImportCategoriesUnknownError catalog.category_not_found (rows naming no category)
    PayloadTooLargeError (413)
    └── ImportTooLargeError        catalog.import_too_large    (more rows than one import takes)
    AppError (415)
    └── UnsupportedImportTypeError catalog.import_unsupported_type
    ConflictError (409)
    ├── CategoryExistsError        catalog.category_exists
    ├── CategoryInUseError         catalog.category_in_use
    └── StockAdjustmentError       catalog.stock_adjustment_refused (feed: stock below 0)

A category named in a request body that does not exist is a 422, not a 404: the resource the
URL names (`/api/products`) exists, the body is what is wrong. It keeps the same code as the
404, so clients test one code for "that category does not exist"; the status says where.
"""

from typing import Any

from apiforge.kit import (
    AppError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationFailedError,
)


class ProductNotFoundError(NotFoundError):
    code = "catalog.product_not_found"

    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} does not exist.")


class CategoryNotFoundError(NotFoundError):
    code = "catalog.category_not_found"

    def __init__(self, category_id: int) -> None:
        super().__init__(f"Category {category_id} does not exist.")


class UnknownCategoryError(ValidationFailedError):
    code = "catalog.category_not_found"

    def __init__(self, category_id: object) -> None:
        super().__init__(
            f"Category {category_id} does not exist.",
            errors=[
                {
                    "loc": ["body", "category_id"],
                    "msg": "category does not exist",
                    "type": "category_not_found",
                }
            ],
        )


class CategoryExistsError(ConflictError):
    code = "catalog.category_exists"

    def __init__(self) -> None:
        super().__init__("A category with this name already exists.")


class CategoryInUseError(ConflictError):
    code = "catalog.category_in_use"

    def __init__(self, category_id: int) -> None:
        super().__init__(
            f"Category {category_id} still has products (archived ones included); "
            "move or delete them first."
        )


class ImportRowsInvalidError(ValidationFailedError):
    """Each entry of `errors` has `line` (NDJSON line or array position, from 1) and `loc`
    `["body", "<line>", <field>...]`."""

    code = "catalog.import_invalid"

    def __init__(self, errors: list[dict[str, Any]], *, truncated: bool) -> None:
        more = " (only the first ones are listed)" if truncated else ""
        super().__init__(
            f"{len(errors)} rows are invalid{more}; nothing was imported.", errors=errors
        )


class ImportCategoriesUnknownError(ValidationFailedError):
    code = "catalog.category_not_found"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            "Some rows name a category that does not exist; nothing was imported.",
            errors=errors,
        )


class ImportTooLargeError(PayloadTooLargeError):
    code = "catalog.import_too_large"

    def __init__(self, max_rows: int) -> None:
        super().__init__(f"One import takes at most {max_rows} rows; split the file.")


class UnsupportedImportTypeError(AppError):
    status = 415
    code = "catalog.import_unsupported_type"
    title = "Unsupported Media Type"

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"Cannot import {content_type or 'a body without Content-Type'}: send "
            "application/json (an array) or application/x-ndjson (one object per line)."
        )


class StockAdjustmentError(ConflictError):
    """A stock adjustment (the warehouse feed) would leave the stock negative."""

    code = "catalog.stock_adjustment_refused"

    def __init__(self, product_id: int, stock: int, after: int) -> None:
        super().__init__(
            f"Product {product_id} has {stock} in stock; the adjustment would leave {after}."
        )
