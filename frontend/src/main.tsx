import { render } from 'preact';
import { App } from './app/App';
import { browserLock, LocalTokenStore } from './api/http';
import { Router } from './state/router';
import { Session } from './state/session';
import './styles/main.scss';

const tokens = new LocalTokenStore(localStorage);
const session = new Session({ tokens, storage: localStorage, drafts: sessionStorage, lock: browserLock() });
const router = new Router();

window.addEventListener('storage', (e) => session.onStorage(e.key));
void session.restore();

const root = document.getElementById('app');
if (root) render(<App services={{ session, router }} />, root);
