import httpx

from libs.metrics import health_app


async def health(problem: str | None) -> httpx.Response:
    transport = httpx.ASGITransport(app=health_app(lambda: problem))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get("/health")


async def test_health_answers_ok_while_there_is_no_problem() -> None:
    response = await health(None)
    assert (response.status_code, response.text) == (200, "ok")


async def test_health_answers_503_with_the_problem() -> None:
    problem = "nothing read or committed for 31 s while the group has 40 records waiting"
    response = await health(problem)
    assert (response.status_code, response.text) == (503, f"unhealthy: {problem}")
