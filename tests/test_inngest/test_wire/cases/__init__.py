"""Wire cases: raw SDK responses seen by a recording proxy between the server and the app."""
