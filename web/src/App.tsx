import { useEffect, useRef, type ReactNode } from "react";
import { isModerator, signOut } from "./auth";
import { useSession } from "./hooks";
import { useRoute, type Route } from "./router";
import { DiscoveryScreen } from "./screens/Discovery";
import { ForYouScreen } from "./screens/ForYou";
import { MineScreen } from "./screens/Mine";
import { ModerationScreen } from "./screens/Moderation";
import { ProjectScreen } from "./screens/Project";
import { ProjectsScreen } from "./screens/Projects";
import { ProposeScreen } from "./screens/Propose";
import { SignInScreen } from "./screens/SignIn";

interface Screen {
  title: string;
  nav: string;
  body: ReactNode;
}

function screenFor(route: Route, signedIn: boolean, moderator: boolean): Screen {
  const needsSignIn = (title: string, nav: string, body: ReactNode): Screen =>
    signedIn
      ? { title, nav, body }
      : {
          title,
          nav,
          body: (
            <>
              <h1>{title}</h1>
              <p className="notice">
                <a href={`#/sign-in?next=${encodeURIComponent(route.path)}`}>Sign in</a> to see this.
              </p>
            </>
          ),
        };
  const project = route.path.match(/^\/projects\/([^/]+)$/);
  if (project) return { title: "Project", nav: "/", body: <ProjectScreen id={decodeURIComponent(project[1]!)} route={route} /> };
  switch (route.path) {
    case "/":
      return { title: "Projects", nav: "/", body: <ProjectsScreen route={route} /> };
    case "/for-you":
      return { title: "For you", nav: "/for-you", body: <ForYouScreen /> };
    case "/propose":
      return { title: "Propose a project", nav: "/propose", body: <ProposeScreen /> };
    case "/me":
      return needsSignIn("Mine", "/me", <MineScreen />);
    case "/me/discovery":
      return needsSignIn("Followed tags and hidden projects", "/me/discovery", <DiscoveryScreen />);
    case "/moderation":
      if (!moderator) {
        return { title: "Moderation", nav: "/moderation", body: <><h1>Moderation</h1><p className="notice">Only moderators see the queue.</p></> };
      }
      return { title: "Moderation", nav: "/moderation", body: <ModerationScreen /> };
    case "/sign-in":
      return { title: "Sign in", nav: "/sign-in", body: <SignInScreen route={route} /> };
    default:
      return { title: "Not found", nav: "", body: <><h1>Not found</h1><p>There is no such page. <a href="#/">See the projects</a>.</p></> };
  }
}

export function App() {
  const route = useRoute();
  const session = useSession();
  const moderator = isModerator(session);
  const screen = screenFor(route, !!session, moderator);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // A new screen: its title, and focus to its content (as a page load would).
  useEffect(() => {
    document.title = `${screen.title} · Projects Flow`;
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [route.path, screen.title]);

  const links = [
    { to: "/", label: "Projects" },
    { to: "/for-you", label: "For you" },
    { to: "/propose", label: "Propose" },
    ...(session
      ? [
          { to: "/me", label: "Mine" },
          { to: "/me/discovery", label: "Following" },
        ]
      : []),
    ...(moderator ? [{ to: "/moderation", label: "Moderation" }] : []),
  ];

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <a className="brand" href="#/">
            Projects Flow
          </a>
          <nav aria-label="Main">
            <ul>
              {links.map((l) => (
                <li key={l.to}>
                  <a href={`#${l.to}`} aria-current={screen.nav === l.to ? "page" : undefined}>
                    {l.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div className="who">
            {session ? (
              <>
                <span className="user" title={`Signed in as ${session.userId}`}>
                  <strong>{session.name ?? session.userId}</strong>
                  {moderator && <span className="role">moderator</span>}
                </span>
                <button type="button" className="link-button" onClick={() => void signOut()}>
                  Sign out
                </button>
              </>
            ) : (
              <a className="button small" href="#/sign-in">
                Sign in
              </a>
            )}
          </div>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {screen.body}
      </main>
      <footer className="bottom">
        <p>Projects Flow: propose projects, discuss their problems and solutions, vote.</p>
      </footer>
    </>
  );
}
