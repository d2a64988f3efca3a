"""Send one ``example/user.signed_up`` event to the local dev server."""

from __future__ import annotations

import inngest

client = inngest.Inngest(app_id="flask-example", is_production=False)

if __name__ == "__main__":
    ids = client.send_sync(inngest.Event(name="example/user.signed_up", data={"name": "Ada"}))
    print(f"sent event {ids[0]}")
