// The lab's workload image: an HTTP server that answers with its pod's name, like the
// tutorial's hostname-deployment. Standard library only, so it builds offline.
module ferrolb.lab/hostname

go 1.26.0
