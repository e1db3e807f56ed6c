mod charts;
mod cli;
mod conservation;
mod hand;
mod mm1;
mod robust;
