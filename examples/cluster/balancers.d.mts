export interface BalancedNode {
  id: string;
  host?: string;
  port: number;
}
export function haproxyConfig(options: {
  bind: string;
  nodes: readonly BalancedNode[];
  affinity?: "both" | "sid" | "cookie";
  secureCookie?: boolean;
  maxconn?: number;
}): string;
export function nginxHttpBlock(options: { listen: string; nodes: readonly BalancedNode[]; extra?: string }): string;
export const shipped: {
  nodes: BalancedNode[];
  haproxy(): string;
  nginx(): string;
};
