"""Catalog errors, each with a stable code.

    NotFoundError (404)
    ├── ProductNotFoundError       catalog.product_not_found   (unknown or archived product)
    └── CategoryNotFoundError      catalog.category_not_found  (unknown category in the URL)
    ValidationFailedError (422)
    └── UnknownCategoryError       catalog.category_not_found  (unknown category in a body)
    ConflictError (409)
    ├── CategoryExistsError        catalog.category_exists
    └── CategoryInUseError         catalog.category_in_use

A category named in a request body that does not exist is a 422, not a 404: the resource the
URL names (`/api/products`) exists, the body is what is wrong. It keeps the same code as the
404, so clients test one code for "that category does not exist"; the status says where.
"""

from apiforge.kit.errors import ConflictError, NotFoundError, ValidationFailedError


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
