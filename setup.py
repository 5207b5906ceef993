from setuptools import find_packages, setup

setup(
    name="ckanext-s3multipart",
    version="1.0.0.dev0",
    description="Browser-to-S3 parallel multipart uploads for CKAN resources, "
    "with CKAN deciding who may write where",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.10",
    packages=find_packages(exclude=["ckanext.s3multipart.tests*"]),
    namespace_packages=["ckanext"],
    include_package_data=True,
    zip_safe=False,
    install_requires=open("requirements.txt").read().split(),
    entry_points={
        "ckan.plugins": [
            "s3multipart = ckanext.s3multipart.plugin:S3MultipartPlugin",
        ],
        # The publisher's client: needs requests, boto3 and click, not CKAN.
        "console_scripts": [
            "s3multipart = ckanext.s3multipart.client.main:main",
        ],
    },
    classifiers=[
        "Framework :: CKAN",
        "Framework :: CKAN :: 2.10",
        "Framework :: CKAN :: 2.11",
        "Framework :: CKAN :: 2.12",
        "Programming Language :: Python :: 3",
    ],
)
