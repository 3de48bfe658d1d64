"""apiforge.shop: the reference service (accounts, catalog, orders), built only on the kit."""
