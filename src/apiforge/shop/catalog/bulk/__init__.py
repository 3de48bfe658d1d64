"""Bulk catalog paths for admins: product import (validated in full, then written in batches)
and export (streamed from a server-side cursor). Same cast as a domain: `rows` reads and
validates an import body, `service` runs the import and renders the export, `repository`
holds their SQL."""
