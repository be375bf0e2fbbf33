"""Self-supervised pretraining and few-label fine-tuning."""
