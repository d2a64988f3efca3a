// The engine's own API, as the console uses it: GraphQL at /v0/gql and the event API.

export class ApiError extends Error {}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(`${response.status}: ${text.slice(0, 200)}`);
  }
  if (!response.ok && !(answer && answer.errors)) {
    throw new ApiError((answer && (answer.error || answer.message)) || `HTTP ${response.status}`);
  }
  return answer;
}

export async function gql(query, variables = {}) {
  const answer = await post("/v0/gql", { query, variables });
  if (answer.errors && answer.errors.length) {
    throw new ApiError([...new Set(answer.errors.map((e) => e.message))].join("; "));
  }
  return answer.data;
}

// The console sends with its own event key; the dev engine accepts any.
export async function sendEvent(event) {
  const answer = await post("/e/console", event);
  return answer.ids;
}
