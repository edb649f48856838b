"""The baseline for API benchmarks: Flask reading a JSON body and answering small JSON."""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask("bare")


@app.get("/healthz")
def healthz() -> object:
    """Ready probe."""
    return jsonify({"status": "ok"})


@app.route("/bare", methods=["GET", "POST"])
def bare() -> object:
    """Read the body (if any), answer a small JSON object."""
    request.get_data()
    return jsonify({"id": "post_x", "status": "scheduled"}), 201 if request.method == "POST" else 200
