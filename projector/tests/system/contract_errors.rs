//! Every bad input of the contract's error list gets its status and the
//! problem+json shape.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Reply, System};

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{:?}",
        reply.body
    );
    for field in ["type", "title", "detail"] {
        assert!(
            reply.body[field].is_string(),
            "{field} missing: {:?}",
            reply.body
        );
    }
    assert_eq!(reply.body["status"], status.as_u16());
}

fn fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(e["message"].is_string(), "{e:?}");
            e["field"].as_str().expect("field").to_owned()
        })
        .collect()
}

fn popee() -> Value {
    json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]})
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_need_a_valid_token() {
    let system = System::without_projector().await;
    let url = format!("{}/projects/propose", system.command);
    let expired = expired_token(&system);
    let other_secret = flow_http::auth::Jwt::new(&flow_runtime::config::SecretString::from(
        "some-other-secret-0123456789",
    ))
    .mint("alice", &[], 3600);
    for auth in [
        None,
        Some("Basic abc".to_owned()),
        Some("Bearer not-a-jwt".to_owned()),
        Some(format!("Bearer {other_secret}")),
        Some(format!("Bearer {expired}")),
    ] {
        let mut request = system.http.post(&url).json(&popee());
        if let Some(auth) = &auth {
            request = request.header("Authorization", auth);
        }
        let reply = system.send(request).await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{auth:?}");
    }
    system.stop().await;
}

/// A correctly signed token that expired in 2001.
fn expired_token(system: &System) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use flow_runtime::config::ExposeSecret;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"alice","exp":1000000000}"#);
    let signing_input = format!("{header}.{claims}");
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        system.env.jwt_secret.expose_secret().as_bytes(),
    );
    let signature =
        URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, signing_input.as_bytes()).as_ref());
    format!("{signing_input}.{signature}")
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_that_cannot_be_read_are_refused() {
    let system = System::without_projector().await;
    let url = format!("{}/projects/propose", system.command);
    let token = system.token("alice");

    let malformed = system
        .send(
            system
                .http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{\"project_name\": "),
        )
        .await;
    assert_problem(&malformed, StatusCode::BAD_REQUEST);

    let not_an_object = system
        .send(
            system
                .http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("[1, 2]"),
        )
        .await;
    assert_problem(&not_an_object, StatusCode::BAD_REQUEST);

    let text = system
        .send(
            system
                .http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body(popee().to_string()),
        )
        .await;
    assert_problem(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let missing_type = system
        .send(
            system
                .http
                .post(&url)
                .bearer_auth(&token)
                .body(popee().to_string()),
        )
        .await;
    assert_problem(&missing_type, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut big = popee();
    big["tagline"] = Value::String("x".repeat(70 * 1024));
    let too_big = system
        .send(system.http.post(&url).bearer_auth(&token).json(&big))
        .await;
    assert_problem(&too_big, StatusCode::PAYLOAD_TOO_LARGE);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_field_rules_name_every_bad_field() {
    let system = System::without_projector().await;
    let reply = system
        .post(
            "/projects/propose",
            "alice",
            json!({"project_name": " ", "tagline": "t".repeat(256), "tags": ["ok", "x".repeat(51)], "problems": [], "solutions": [""]}),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&reply),
        [
            "project_name",
            "tagline",
            "tags[1]",
            "problems",
            "solutions[0]"
        ]
    );

    let missing = system.post("/projects/propose", "alice", json!({})).await;
    assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&missing),
        ["project_name", "tagline", "problems", "solutions"]
    );

    let wrong_type = system
        .post("/projects/propose", "alice", json!({"project_name": 7}))
        .await;
    assert_problem(&wrong_type, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&wrong_type), ["project_name"]);

    let mut too_many_tags = popee();
    too_many_tags["tags"] = json!(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]);
    let reply = system
        .post("/projects/propose", "alice", too_many_tags)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&reply), ["tags"]);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_name_in_any_case_is_a_conflict_and_stores_nothing() {
    let system = System::without_projector().await;
    system.propose("alice", "Popee the Performer").await;
    let mut again = popee();
    again["project_name"] = json!("  POPEE the performer ");
    let reply = system.post("/projects/propose", "bob", again).await;
    assert_problem(&reply, StatusCode::CONFLICT);
    // The automatic moderator may still be deciding on the first proposal's
    // threads: count what a proposal stores, not the whole stream.
    let stored: Vec<&'static str> = system
        .events()
        .await
        .iter()
        .map(|(_, envelope)| envelope.event.name())
        .filter(|name| *name != "ThreadModerated")
        .collect();
    assert_eq!(
        stored,
        [
            "ProjectNameClaimed",
            "ProjectProposed",
            "ThreadStarted",
            "ThreadStarted",
            "ThreadStarted"
        ],
        "nothing of the refused proposal is stored"
    );
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_in_another_unicode_form_is_taken_and_an_invisible_name_is_refused() {
    let system = System::without_projector().await;
    system.propose("alice", "Café Society").await;
    let mut again = popee();
    // Decomposed (e + combining acute accent), with two spaces.
    again["project_name"] = json!("Cafe\u{301}  Society");
    let reply = system.post("/projects/propose", "bob", again).await;
    assert_problem(&reply, StatusCode::CONFLICT);
    let names: Vec<String> = system
        .events()
        .await
        .into_iter()
        .filter_map(|(_, envelope)| match envelope.event {
            flow_domain::events::Event::ProjectProposed { project_name, .. } => Some(project_name),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["Café Society"]);

    let mut invisible = popee();
    invisible["project_name"] = json!("\u{200B}");
    let reply = system.post("/projects/propose", "bob", invisible).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&reply), ["project_name"]);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_foreign_resources() {
    let system = System::without_projector().await;
    let project_id = system.propose("alice", "mine").await.body["project_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let unknown = "0199b7c4-0000-7000-8000-000000000000";

    let reply = system
        .put(
            &format!("/projects/{unknown}/tags"),
            "alice",
            json!({"add": ["x"]}),
        )
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    let reply = system
        .put(
            &format!("/projects/{project_id}/tags"),
            "mallory",
            json!({"add": ["x"]}),
        )
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    let reply = system
        .post(
            &format!("/projects/{unknown}/threads"),
            "alice",
            json!({"thread_type": "COMMENT", "message": "hi"}),
        )
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    let reply = system
        .put(
            &format!("/threads/{unknown}/vote"),
            "alice",
            json!({"direction": "up"}),
        )
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    let reply = system
        .patch("/threads/not-an-id", "alice", json!({"message": "x"}))
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    let reply = system
        .send(
            system
                .http
                .delete(format!("{}/projects/propose", system.command))
                .bearer_auth(system.token("alice")),
        )
        .await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_query_parameters_are_422() {
    let system = System::start().await;
    for path in [
        "/projects?limit=0",
        "/projects?limit=1000",
        "/projects?limit=ten",
        "/projects?cursor=garbled!!",
        "/projects?sort=sideways",
        "/projects?limit=1&limit=2",
        "/projects?colour=red",
        "/projects?sort=top&limit=0",
        "/projects?sort=active&cursor=garbled!!",
        "/projects?tag=",
        "/projects?q=!!!",
        "/projects?tags=circus",
        "/tags?limit=0",
        "/tags?limit=1001",
        "/tags?sort=name",
    ] {
        let reply = system.get(path).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!fields(&reply).is_empty(), "{path}");
    }
    let many_tags: String = (0..11).map(|i| format!("tag=t{i}&")).collect();
    let long_query = format!("q={}", "word ".repeat(41));
    let long_blank = format!("q={}", "+".repeat(201));
    let many_words = format!(
        "q={}",
        (0..11)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join("+")
    );
    for (path, field) in [
        (format!("/projects?{many_tags}"), "tag"),
        (format!("/projects?{long_query}"), "q"),
        (format!("/projects?{long_blank}"), "q"),
        (format!("/projects?{many_words}"), "q"),
        ("/projects?limit=0&sort=top&cursor=x".to_owned(), "limit"),
    ] {
        let reply = system.get(&path).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&reply)[0], field, "{path}");
    }
    // A cursor only continues the listing that gave it out.
    for i in 0..3 {
        system.propose("alice", &format!("cursor {i}")).await;
    }
    let token = system.propose("alice", "cursor 3").await.token();
    for (first, other) in [
        ("/projects?limit=1", "/projects?limit=1&sort=top"),
        (
            "/projects?limit=1&sort=top",
            "/projects?limit=1&sort=active",
        ),
        (
            "/projects?limit=1&sort=top&tag=test",
            "/projects?limit=1&sort=top",
        ),
        ("/projects?limit=1&q=cursor", "/projects?limit=1&q=curs"),
    ] {
        let page = system.get_after(first, &token).await;
        let cursor = page.body["next_cursor"].as_str().expect("a next page");
        let reply = system.get(&format!("{other}&cursor={cursor}")).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&reply), ["cursor"], "{first} then {other}");
        let same = system.get(&format!("{first}&cursor={cursor}")).await;
        assert_eq!(same.status, StatusCode::OK, "{first}: {:?}", same.body);
    }
    // A cursor of another kind of listing, well-formed but not ours.
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    for cursor in [
        URL_SAFE_NO_PAD.encode(br#"{"s": 5}"#),
        URL_SAFE_NO_PAD.encode(br#"{"o": "top", "f": "x", "s": "five"}"#),
        URL_SAFE_NO_PAD.encode(b"not json"),
    ] {
        let reply = system
            .get(&format!("/projects?sort=top&cursor={cursor}"))
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&reply), ["cursor"]);
    }
    let reply = system
        .send(
            system
                .http
                .get(format!("{}/projects", system.query))
                .header("Consistency-Token", "nonsense"),
        )
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
    // The operational routes do not read the token: a probe never fails on it.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let reply = system
            .send(
                system
                    .http
                    .get(format!("{}{path}", system.query))
                    .header("Consistency-Token", "nonsense"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    }
    system.stop().await;
}
