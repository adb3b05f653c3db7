"""Cinder entities: volumes and their attachments to instances."""
