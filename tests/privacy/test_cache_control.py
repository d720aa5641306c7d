"""No cache keeps what the app serves: Cache-Control: no-store on every dynamic
response (pages, the API, feeds, exports, recordings, errors); static files keep
whitenoise's caching."""



def test_every_dynamic_response_is_no_store(served):
    for name, response in served.items():
        if name == "static file":
            continue
        assert "no-store" in response["Cache-Control"], f"{name}: {response.get('Cache-Control')!r}"


def test_a_view_that_sets_its_own_cache_control_keeps_it(served):
    # The admin's never_cache: no-store among its own directives.
    assert served["admin"]["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_static_files_keep_whitenoise_caching(served):
    assert "no-store" not in served["static file"]["Cache-Control"]
    assert "max-age" in served["static file"]["Cache-Control"]


def test_a_range_of_a_recording_is_no_store_too(served):
    response = served["replay range"]
    assert response["Content-Range"].startswith("bytes 100-199/") and response["Cache-Control"] == "no-store"
