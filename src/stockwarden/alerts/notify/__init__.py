"""Notifications: compose digests and immediate messages, deliver them through an outbox and apprise.

* :mod:`.base`: the message value, the :class:`Notifier` seam, the apprise notifier (with a
  ``file://`` schema for local demo/testing) and a recording mock.
* :mod:`.compose`: routing by level / category / location / role, one digest per channel per run,
  immediate messages for new critical and escalated alerts, quiet hours, Chinese or English text.
* :mod:`.outbox`: delivery with retries and exponential backoff, and the delivery guarantee.
"""
