"""ckanext-s3multipart: browser-to-S3 multipart uploads for CKAN resources (the plugin is
plugin.py; docs/design.md says which module holds what)."""
