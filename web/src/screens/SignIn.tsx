// Signing in: with the configured OpenID Connect provider, or with a token
// (pasted, or from a sign-in link #/sign-in?token=...).
import { useEffect, useState, type FormEvent } from "react";
import { getNotice, providerConfigured, signInWithProvider, signInWithToken } from "../auth";
import { Field } from "../components/ui";
import { useSession } from "../hooks";
import { navigate, type Route } from "../router";

export function SignInScreen({ route }: { route: Route }) {
  const session = useSession();
  const next = route.params.get("next") ?? "/";
  const linkToken = route.params.get("token");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!linkToken) return;
    try {
      signInWithToken(linkToken);
      // The token leaves the address (and the history) at once.
      navigate(`#${next}`, true);
    } catch (err) {
      setError((err as Error).message);
      navigate("#/sign-in", true);
    }
  }, [linkToken, next]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      signInWithToken(token);
      navigate(`#${next}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="narrow">
      <h1>Sign in</h1>
      {getNotice() && <p className="notice">{getNotice()}</p>}
      {session && (
        <p className="notice">
          You are signed in as <strong>{session.name ?? session.userId}</strong>. Signing in again replaces this session.
        </p>
      )}
      {providerConfigured() && (
        <p>
          <button type="button" className="button" onClick={() => void signInWithProvider(`#${next}`)}>
            Sign in with your account
          </button>
        </p>
      )}
      <form className="form" onSubmit={submit} noValidate>
        <Field
          label="Token"
          error={error}
          hint={providerConfigured() ? "Or paste a token the APIs accept." : "Paste a token, or open a sign-in link (./dev run prints some)."}
        >
          {(a) => <textarea {...a} rows={4} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} autoComplete="off" />}
        </Field>
        <div className="form-actions">
          <button type="submit" className="button">
            Sign in with token
          </button>
        </div>
      </form>
    </div>
  );
}
