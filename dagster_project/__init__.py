"""gongkai (公开): a disclosure-compliance data warehouse for public money."""
