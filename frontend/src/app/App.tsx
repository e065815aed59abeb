import { useEffect, useState } from 'preact/hooks';
import { socketUrl } from '../api/socket';
import { AuthForm } from '../features/auth/AuthForm';
import { ChatStore } from '../state/chat';
import { ChatContext, ServicesContext, useServices, type AppServices } from './context';
import { notificationText } from './notify';
import { Shell } from './Shell';

export function App({ services }: { services: AppServices }) {
  return (
    <ServicesContext.Provider value={services}>
      <Root />
    </ServicesContext.Provider>
  );
}

function safeNext(search: string): string {
  const next = new URLSearchParams(search).get('next');
  // Only same-site paths: never an open redirect.
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function Root() {
  const { session, router } = useServices();
  const state = session.state.value;
  const route = router.route;
  const user = session.user.value;

  useEffect(() => {
    if (state === 'anonymous' && route.name !== 'login' && route.name !== 'signup') {
      const here = router.path.value;
      router.navigate(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, { replace: true });
    } else if (state === 'authenticated' && (route.name === 'login' || route.name === 'signup')) {
      router.navigate(safeNext(router.search.value), { replace: true });
    }
  }, [state, route.name, router]);

  useEffect(() => {
    const titles: Record<string, string> = { login: 'Log in · Chat', signup: 'Sign up · Chat' };
    if (state !== 'authenticated') document.title = titles[route.name] ?? 'Chat';
  }, [state, route.name]);

  if (state === 'loading') {
    return (
      <main class="splash" aria-busy="true">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (state === 'anonymous' || !user) {
    const mode = route.name === 'signup' ? 'signup' : 'login';
    return (
      <AuthForm
        mode={mode}
        onLogin={(u, p) => session.login(u, p)}
        onSignup={(u, p, d) => session.register(u, p, d)}
        onSwitch={(m) => router.navigate(m === 'login' ? '/login' + router.search.value : '/signup' + router.search.value)}
      />
    );
  }
  return <ChatRoot key={user.id} />;
}

function ChatRoot() {
  const { session, router } = useServices();
  const me = session.user.value!;
  const [chat] = useState(
    () =>
      new ChatStore({
        api: session.api,
        me,
        storage: localStorage,
        socket: {
          url: () => socketUrl(location),
          create: (url) => new WebSocket(url),
          onAuthLost: () => void session.logout(),
        },
        onGroupGone: (id) => {
          const r = router.route;
          if (r.name === 'group' && r.id === id) router.navigate('/', { replace: true });
        },
              notifications: {
          api: typeof Notification === 'undefined' ? undefined : Notification,
          view: {
            activeId: () => {
              const r = router.route;
              return r.name === 'group' ? r.id : null;
            },
            hidden: () => document.visibilityState === 'hidden',
            open: (id) => {
              window.focus();
              router.navigate(`/g/${id}`);
            },
            text: notificationText,
          },
        },
      }),
  );

  useEffect(() => {
    void chat.start();
    const online = () => chat.socket.reconnectNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      chat.stop();
    };
  }, [chat]);

  return (
    <ChatContext.Provider value={chat}>
      <Shell />
    </ChatContext.Provider>
  );
}
