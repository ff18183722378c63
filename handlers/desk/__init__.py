"""The crisis desk (PRODUCT.md §10): claims, stakeholders, press inquiries."""
