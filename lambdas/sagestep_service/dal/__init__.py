"""DynamoDB access behind small interfaces."""
