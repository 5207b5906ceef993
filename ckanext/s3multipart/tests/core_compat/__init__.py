"""CKAN's own tests run with and without s3multipart (bin/core-tests); nothing here is collected."""
