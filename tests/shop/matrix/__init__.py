"""The authorization matrix's parts: the cast of callers and the world they act in
(`world.py`), who may do what (`policy.py`, the table), a valid request for every operation
(`calls.py`) and the check of every answer against the OpenAPI document (`shapes.py`). The
tests are tests/shop/test_authorization_matrix.py and tests/shop/test_mass_assignment.py."""
