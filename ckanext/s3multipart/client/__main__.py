"""`python -m ckanext.s3multipart.client`, the same as the `s3multipart` command."""
from .main import main

main(prog_name="s3multipart")
