"""The publisher's `s3multipart` command: upload files into CKAN resources through S3, and
download them, with nothing but the CKAN URL and an API token.

Imports nothing from CKAN (only requests, boto3, click and the standard library), so it
installs and runs on a machine without CKAN.
"""
