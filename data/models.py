"""Django models. Business workflows live in domain/, not here."""
