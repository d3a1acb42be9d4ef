import { Shell } from '../../web/layout/shell.tsx';

const TITLES: Record<number, string> = {
  400: 'That did not work',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Page not found',
  409: 'That did not work',
  422: 'That did not work',
  429: 'Too many attempts',
  500: 'Something went wrong',
};

/** A page for a request that went wrong, in the same shell as every other page. */
export function ErrorPage(props: { status: number; message: string }) {
  return (
    <Shell title={TITLES[props.status] ?? 'That did not work'} area="" home="/admin" script={null}>
      <p>{props.message}</p>
      <p>
        <a href="/admin">Admin console</a> · <a href="/portal">Self-service portal</a>
      </p>
    </Shell>
  );
}
