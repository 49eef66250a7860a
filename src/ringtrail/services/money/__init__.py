"""Money: ad costs and CRM deals in (`costs`, `deals`), money figures for reports (`returns`)."""
