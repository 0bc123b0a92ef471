"""Code the tests and bench/ share: the Python WebRTC client (rtc_client, rtc_media)."""
